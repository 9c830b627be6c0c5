/** One partition of the segment engine: the {@link PartitionLog} surface over its writer, reader and retention. */
import type { AppendResult, LogConfig, PartitionId, PartitionLog, ReadResult, TimeLookup } from '../engine.js';
import { writeCheckpoint } from './checkpoint.js';
import { activeSegment, assertOpen, outOfRange, type EngineContext, type LogState } from './log-state.js';
import { readLog } from './reader.js';
import { recoverPartition } from './recovery.js';
import { applyRetention, deleteBefore } from './retention.js';
import { findMaxTimestamp, findOffsetForTime } from './time-queries.js';
import { LogWriter } from './writer.js';

export interface OpenStats {
  scannedBytes: number;
  truncatedBytes: number;
}

export class SegmentPartitionLog implements PartitionLog {
  private readonly writer: LogWriter;

  private constructor(private readonly state: LogState) {
    this.writer = new LogWriter(state);
  }

  /** Opens (recovering when needed) the partition stored in `dir`. */
  static async open(
    id: PartitionId,
    dir: string,
    config: LogConfig,
    ctx: EngineContext,
  ): Promise<{ log: SegmentPartitionLog; stats: OpenStats }> {
    const durable = (config.flush ?? ctx.defaultFlush).mode !== 'os';
    const recovered = await recoverPartition(dir, ctx, durable);
    const state: LogState = {
      id: { topic: id.topic, partition: id.partition },
      dir,
      ctx,
      segments: recovered.segments,
      highWatermark: recovered.segments[recovered.segments.length - 1].nextOffset,
      logStartOffset: recovered.logStartOffset,
      config: { ...config },
      hints: [],
      cleanOnDisk: recovered.cleanOnDisk,
    };
    const { scannedBytes, truncatedBytes } = recovered;
    return { log: new SegmentPartitionLog(state), stats: { scannedBytes, truncatedBytes } };
  }

  get id(): PartitionId {
    return this.state.id;
  }

  highWatermark(): number {
    return this.state.highWatermark;
  }

  logStartOffset(): number {
    return this.state.logStartOffset;
  }

  sizeBytes(): number {
    return this.state.segments.reduce((n, s) => n + s.size, 0);
  }

  async append(batches: Buffer): Promise<AppendResult> {
    assertOpen(this.state);
    return this.writer.append(batches);
  }

  read(offset: number, maxBytes: number): Promise<ReadResult> {
    return readLog(this.state, offset, maxBytes);
  }

  offsetForTime(timestamp: number): Promise<TimeLookup | undefined> {
    return findOffsetForTime(this.state, timestamp);
  }

  maxTimestamp(): Promise<TimeLookup | undefined> {
    return findMaxTimestamp(this.state);
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    assertOpen(this.state);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.state.highWatermark) {
      throw outOfRange(this.state, `cannot delete records before ${offset}: offset`);
    }
    return this.job(() => deleteBefore(this.state, this.writer, offset));
  }

  async enforceRetention(nowMs: number): Promise<number> {
    assertOpen(this.state);
    return this.job(() => applyRetention(this.state, this.writer, nowMs));
  }

  updateConfig(config: LogConfig): void {
    this.state.config = { ...config };
  }

  /** fdatasyncs everything acknowledged so far (engine flush). */
  flush(): Promise<void> {
    if (this.state.closedReason !== undefined) return Promise.resolve();
    return this.writer.job(() => this.writer.syncAll());
  }

  /**
   * Lets queued appends finish, then makes everything durable and records the active segment in the checkpoint
   * so the next open need not scan it. Later calls fail with CLOSED.
   */
  async close(): Promise<void> {
    if (this.state.closedReason !== undefined) return;
    const done = this.writer.job(async () => {
      this.writer.stopTimer();
      if (this.state.cleanOnDisk) return; // untouched since a clean open: the files already say so
      if (this.writer.failed) {
        // Offline after an I/O error: the next open must scan, whatever the files look like now.
        await writeCheckpoint(this.state.dir, { logStartOffset: this.state.logStartOffset });
        return;
      }
      const active = activeSegment(this.state);
      await active.seal(true);
      await this.writer.syncAll();
      await writeCheckpoint(this.state.dir, {
        logStartOffset: this.state.logStartOffset,
        clean: {
          base: active.base,
          size: active.size,
          nextOffset: active.nextOffset,
          lastBatchPos: active.lastBatchPos,
          maxTs: active.maxTs,
          maxTsOffset: active.maxTsOffset,
        },
      });
    });
    this.state.closedReason = 'belongs to a closed storage engine';
    try {
      await done;
    } finally {
      for (const seg of this.state.segments) seg.release();
    }
  }

  /** Stops the log without writing anything (the partition is being deleted). */
  async abandon(): Promise<void> {
    if (this.state.closedReason !== undefined) return;
    this.state.closedReason = 'was dropped';
    await this.writer.job(async () => this.writer.stopTimer()).catch(() => undefined);
    for (const seg of this.state.segments) seg.release();
  }

  private job<T>(fn: () => Promise<T>): Promise<T> {
    return this.writer.job(async () => {
      assertOpen(this.state);
      return fn();
    });
  }
}
