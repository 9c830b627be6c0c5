import { RobustMQError } from '../../errors.js';
import type { AppendResult, LogConfig, PartitionId, PartitionLog, ReadResult, TimeLookup } from '../engine.js';
import { splitBatches, type BatchHeader } from '../record-batch.js';
import { PartitionIndex, type IndexEntry } from './partition-index.js';
import { maxTimestamp, offsetForTime, readPartition, type BlockSource } from './reads.js';

/** A partition's durable identity, shared by its open log and the engine's garbage collector. */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Changes when the partition is dropped and created again, so ranges of the old one are recognised as dead. */
  readonly incarnation: number;
  logStartOffset: number;
  /** Version of the 's3-partitions' entry (compare-and-set). */
  version: number;
}

/** What an open partition asks of its engine. */
export interface PartitionHost extends BlockSource {
  /** Buffers an append for the next object; resolves once that object is committed. */
  enqueue(part: S3PartitionLog, batches: Buffer, headers: BatchHeader[]): Promise<AppendResult>;
  /** Persists a new log start offset (fenced), then calls `part.applyLogStart`. */
  moveLogStart(part: S3PartitionLog, offset: number): Promise<void>;
}

/**
 * One partition of the S3 engine. Its high watermark is the end of its last *committed* range: appends waiting for
 * their object are invisible to readers, because a commit can still fail and their offsets would then be reused.
 */
export class S3PartitionLog implements PartitionLog {
  readonly index = new PartitionIndex();
  readonly label: string;
  /** Read-ahead: where a sequential consumer will read next. */
  expectNext = -1;
  private committedEnd: number;
  private config: LogConfig;
  private closedReason: string | undefined;

  constructor(
    readonly id: PartitionId,
    readonly state: PartitionState,
    entries: IndexEntry[],
    config: LogConfig,
    private readonly host: PartitionHost,
  ) {
    this.label = `${id.topic}-${id.partition}`;
    this.config = { ...config };
    for (const e of entries) this.index.push(e);
    this.committedEnd = Math.max(state.logStartOffset, this.index.end ?? 0);
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  highWatermark(): number {
    return this.committedEnd;
  }

  logStartOffset(): number {
    return this.state.logStartOffset;
  }

  sizeBytes(): number {
    return this.index.sizeBytes;
  }

  /**
   * Offsets are assigned when the flush builds the object, in call order; the base offsets are rewritten in
   * `batches` itself, which stays referenced (not copied) until then. Resolves after the commit.
   */
  async append(batches: Buffer): Promise<AppendResult> {
    this.assertOpen();
    return this.host.enqueue(this, batches, splitBatches(batches));
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    this.assertOpen();
    return readPartition(this, this.host, offset, maxBytes);
  }

  async offsetForTime(timestamp: number): Promise<TimeLookup | undefined> {
    this.assertOpen();
    return offsetForTime(this, this.host, timestamp);
  }

  async maxTimestamp(): Promise<TimeLookup | undefined> {
    this.assertOpen();
    return maxTimestamp(this, this.host);
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    this.assertOpen();
    const hw = this.committedEnd;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > hw) {
      throw new RobustMQError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: high watermark is ${hw}`);
    }
    if (offset > this.state.logStartOffset) await this.host.moveLogStart(this, offset);
    return this.state.logStartOffset;
  }

  /** Whole ranges go: by their max timestamp, then oldest first while the partition is over its byte limit. */
  async enforceRetention(nowMs: number): Promise<number> {
    this.assertOpen();
    const { retentionMs, retentionBytes } = this.config;
    let drop = 0;
    if (retentionMs >= 0) drop = this.index.countLeading((e) => e.maxTimestamp < nowMs - retentionMs);
    if (retentionBytes >= 0) {
      let excess = this.index.sizeBytes - retentionBytes;
      for (let i = 0; i < drop; i++) excess -= this.index.at(i).size;
      while (excess > 0 && drop < this.index.length) excess -= this.index.at(drop++).size;
    }
    const target = drop < this.index.length ? this.index.at(drop).base : this.committedEnd;
    if (drop > 0 && target > this.state.logStartOffset) await this.host.moveLogStart(this, target);
    return this.state.logStartOffset;
  }

  updateConfig(config: LogConfig): void {
    this.config = { ...config };
  }

  /** The writer committed `entry` (its data is already in the read cache). */
  applyCommitted(entry: IndexEntry): void {
    if (this.closed) return;
    this.index.push(entry);
    this.committedEnd = entry.next;
  }

  /** The log start moved (already persisted): ranges wholly below it leave the index. */
  applyLogStart(offset: number): void {
    this.state.logStartOffset = Math.max(this.state.logStartOffset, offset);
    this.index.dropLeading(this.index.countLeading((e) => e.next <= this.state.logStartOffset));
  }

  /** Replaces the index (repair after an unexpected compaction outcome). */
  resetIndex(entries: IndexEntry[]): void {
    this.index.clear();
    for (const e of entries) this.index.push(e);
  }

  /** Makes every later call fail with CLOSED. */
  release(reason: string): void {
    this.closedReason = reason;
    this.index.clear();
  }

  private assertOpen(): void {
    if (this.closedReason !== undefined) {
      throw new RobustMQError('CLOSED', `partition ${this.label} ${this.closedReason}`);
    }
  }
}
