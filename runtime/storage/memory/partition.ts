import { RobustMQError } from '../../errors.js';
import type { AppendResult, LogConfig, PartitionId, PartitionLog, ReadResult, TimeLookup } from '../engine.js';
import { setBaseOffset, splitBatches } from '../record-batch.js';
import { BatchList } from './batch-list.js';
import { firstRecordAtOrAfter, latestRecord } from './time-lookup.js';

/**
 * One partition held in process memory. Every operation completes synchronously inside its promise, so appends
 * are serialized by the event loop and concurrent appends get distinct, dense offsets.
 */
export class MemoryPartitionLog implements PartitionLog {
  private readonly batches = new BatchList();
  private startOffset = 0;
  private config: LogConfig;
  private closedReason: string | undefined;

  constructor(
    readonly id: PartitionId,
    config: LogConfig,
  ) {
    this.config = { ...config };
  }

  highWatermark(): number {
    return this.batches.end;
  }

  logStartOffset(): number {
    return this.startOffset;
  }

  sizeBytes(): number {
    return this.batches.sizeBytes;
  }

  /**
   * Stores a private copy of each batch (the argument may be a view into a large request buffer that must not be
   * kept alive) and rewrites the base offsets both in the copies and in the caller's buffer, which the caller may
   * hand on as the stored bytes.
   */
  async append(batches: Buffer): Promise<AppendResult> {
    this.assertOpen();
    const headers = splitBatches(batches);
    const baseOffset = this.batches.end;
    let next = baseOffset;
    for (const h of headers) {
      setBaseOffset(batches, h.position, next);
      // allocUnsafeSlow: an exact-size allocation outside Buffer's shared pool, so dropping it frees it.
      const copy = Buffer.allocUnsafeSlow(h.size);
      batches.copy(copy, 0, h.position, h.position + h.size);
      const after = next + h.lastOffsetDelta + 1;
      this.batches.push(copy, next, after, h.maxTimestamp);
      next = after;
    }
    return { baseOffset, lastOffset: next - 1, logStartOffset: this.startOffset };
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    this.assertOpen();
    const hw = this.batches.end;
    if (!Number.isSafeInteger(offset) || offset < this.startOffset || offset > hw) {
      throw new RobustMQError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside [${this.startOffset}, ${hw}] of ${this.id.topic}-${this.id.partition}`,
      );
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    const first = this.batches.indexOf(offset);
    if (first >= 0) {
      for (let i = first; i < this.batches.length; i++) {
        const batch = this.batches.batch(i);
        // KIP-74: the first batch is returned whatever its size, so a consumer always makes progress.
        if (chunks.length > 0 && bytes + batch.length > maxBytes) break;
        chunks.push(batch);
        bytes += batch.length;
      }
    }
    return { chunks, bytes, highWatermark: hw, logStartOffset: this.startOffset };
  }

  async offsetForTime(timestamp: number): Promise<TimeLookup | undefined> {
    this.assertOpen();
    for (let i = 0; i < this.batches.length; i++) {
      if (this.batches.maxTimestamp(i) < timestamp) continue;
      const hit = firstRecordAtOrAfter(this.batches.batch(i), timestamp, this.startOffset);
      if (hit) return hit;
    }
    return undefined;
  }

  async maxTimestamp(): Promise<TimeLookup | undefined> {
    this.assertOpen();
    const n = this.batches.length;
    if (n === 0) return undefined;
    // The first batch may hold records below the log start (DeleteRecords mid-batch); those do not count.
    let best = latestRecord(this.batches.batch(0), this.startOffset);
    let bestIndex = -1;
    let bestTs = best?.timestamp ?? -Infinity;
    for (let i = 1; i < n; i++) {
      const ts = this.batches.maxTimestamp(i);
      if (ts > bestTs) {
        bestTs = ts;
        bestIndex = i;
      }
    }
    if (bestIndex > 0) best = latestRecord(this.batches.batch(bestIndex), this.startOffset);
    return best;
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    this.assertOpen();
    const hw = this.batches.end;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > hw) {
      throw new RobustMQError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: high watermark is ${hw}`);
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    this.batches.dropFirst(this.batches.countLeading((i) => this.batches.nextOffset(i) <= offset));
    return this.startOffset;
  }

  async enforceRetention(nowMs: number): Promise<number> {
    this.assertOpen();
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      const cutoff = nowMs - retentionMs;
      this.batches.dropFirst(this.batches.countLeading((i) => this.batches.maxTimestamp(i) < cutoff));
    }
    if (retentionBytes >= 0) {
      let excess = this.batches.sizeBytes - retentionBytes;
      this.batches.dropFirst(
        this.batches.countLeading((i) => {
          if (excess <= 0) return false;
          excess -= this.batches.batch(i).length;
          return true;
        }),
      );
    }
    const firstKept = this.batches.length > 0 ? this.batches.baseOffset(0) : this.batches.end;
    this.startOffset = Math.max(this.startOffset, firstKept);
    return this.startOffset;
  }

  updateConfig(config: LogConfig): void {
    this.config = { ...config };
  }

  /** Frees the data and makes every later call fail with CLOSED. */
  release(reason: string): void {
    this.closedReason = reason;
    this.batches.clear();
  }

  private assertOpen(): void {
    if (this.closedReason !== undefined) {
      throw new RobustMQError('CLOSED', `partition ${this.id.topic}-${this.id.partition} ${this.closedReason}`);
    }
  }
}
