import { RobustMQError } from '../../errors.js';
import type { AppendResult, LogConfig, PartitionId, PartitionLog, ReadResult, TimeLookup } from '../engine.js';
import { setBaseOffset, splitBatches } from '../record-batch.js';
import type { BufferPool } from '../../buffer-pool.js';
import { BatchList } from './batch-list.js';
import { firstRecordAtOrAfter, latestRecord } from './time-lookup.js';

/** Size of the slabs batches are copied into; whole slabs are what gets reused. */
export const SLAB_BYTES = 1024 * 1024;
/** A batch larger than this gets a buffer of its own. */
const OWN_BUFFER_ABOVE = SLAB_BYTES / 4;
/** A partition's first slab; each next one is four times larger, up to SLAB_BYTES (idle partitions stay small). */
const FIRST_SLAB_BYTES = 16 * 1024;

interface Slab {
  readonly buf: Buffer;
  used: number;
  /** Stored batches in this slab. */
  live: number;
  /** A read handed out a view of it: it is never reused (the reader may hold the view for as long as it likes). */
  exposed: boolean;
}

/**
 * Where a partition keeps its private copies of appended batches: consecutive batches share a slab. A full-size
 * slab goes back to the engine's pool once retention or DeleteRecords dropped its last batch, unless a read exposed
 * it, so a partition that appends while retention drops its oldest batches reuses memory instead of allocating (and
 * the garbage collector freeing) as much as it appends.
 */
class SlabArena {
  private current: Slab | undefined;

  constructor(private readonly pool: BufferPool | undefined) {}

  /** A private copy of src[start, end), and the slab it lives in (undefined: a buffer of its own). */
  copy(src: Buffer, start: number, end: number): { copy: Buffer; slab: Slab | undefined } {
    const size = end - start;
    if (size > OWN_BUFFER_ABOVE) {
      const own = Buffer.allocUnsafeSlow(size);
      src.copy(own, 0, start, end);
      return { copy: own, slab: undefined };
    }
    let slab = this.current;
    if (slab === undefined || slab.used + size > slab.buf.length) {
      const grown = slab === undefined ? FIRST_SLAB_BYTES : slab.buf.length * 4;
      const want = Math.min(SLAB_BYTES, Math.max(grown, size * 4));
      // allocUnsafeSlow: outside Buffer's shared pool, so a slab is freed once none of its batches is kept.
      slab = { buf: want === SLAB_BYTES && this.pool ? this.pool.take(SLAB_BYTES) : Buffer.allocUnsafeSlow(want), used: 0, live: 0, exposed: false };
      const sealed = this.current;
      this.current = slab;
      if (sealed !== undefined) this.reuse(sealed);
    }
    const copy = slab.buf.subarray(slab.used, slab.used + size);
    src.copy(copy, 0, start, end);
    slab.used += size;
    slab.live++;
    return { copy, slab };
  }

  /** A batch of `slab` was dropped. */
  dropped(slab: Slab): void {
    slab.live--;
    this.reuse(slab);
  }

  /** Forgets the current slab (the partition was released). */
  clear(): void {
    this.current = undefined;
  }

  private reuse(slab: Slab): void {
    if (slab.live === 0 && slab !== this.current && !slab.exposed && slab.buf.length === SLAB_BYTES) this.pool?.put(slab.buf);
  }
}

/**
 * One partition held in process memory. Every operation completes synchronously inside its promise, so appends
 * are serialized by the event loop and concurrent appends get distinct, dense offsets.
 */
export class MemoryPartitionLog implements PartitionLog {
  private readonly arena: SlabArena;
  private readonly batches: BatchList<Slab>;
  private startOffset = 0;
  private config: LogConfig;
  private closedReason: string | undefined;

  constructor(
    readonly id: PartitionId,
    config: LogConfig,
    /** Where full-size slabs come from and go back (shared by an engine's partitions); none: no reuse. */
    pool?: BufferPool,
  ) {
    this.config = { ...config };
    this.arena = new SlabArena(pool);
    this.batches = new BatchList<Slab>((slab) => this.arena.dropped(slab));
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
      const { copy, slab } = this.arena.copy(batches, h.position, h.position + h.size);
      const after = next + h.lastOffsetDelta + 1;
      this.batches.push(copy, next, after, h.maxTimestamp, slab);
      next = after;
    }
    // Size retention as data arrives (memory is what it protects; the periodic check would let a busy partition
    // run far past it), in steps of a slab or 1/64 of the limit so the batch list is not shifted on every append.
    const limit = this.config.retentionBytes;
    if (limit >= 0 && this.batches.sizeBytes - limit > Math.max(SLAB_BYTES, limit / 64)) this.dropOverSize(limit, true);
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
        const slab = this.batches.owner(i);
        if (slab !== undefined) slab.exposed = true;
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
    if (retentionBytes >= 0) this.dropOverSize(retentionBytes, false);
    this.advanceStart();
    return this.startOffset;
  }

  /** Drops the oldest batches while more than `limit` bytes are held (with `keepLast`, never the newest one). */
  private dropOverSize(limit: number, keepLast: boolean): void {
    let excess = this.batches.sizeBytes - limit;
    const last = this.batches.length - 1;
    this.batches.dropFirst(
      this.batches.countLeading((i) => {
        if (excess <= 0 || (keepLast && i === last)) return false;
        excess -= this.batches.batch(i).length;
        return true;
      }),
    );
    this.advanceStart();
  }

  private advanceStart(): void {
    const firstKept = this.batches.length > 0 ? this.batches.baseOffset(0) : this.batches.end;
    this.startOffset = Math.max(this.startOffset, firstKept);
  }

  updateConfig(config: LogConfig): void {
    this.config = { ...config };
  }

  /** Frees the data and makes every later call fail with CLOSED. */
  release(reason: string): void {
    this.closedReason = reason;
    this.batches.clear();
    this.arena.clear();
  }

  private assertOpen(): void {
    if (this.closedReason !== undefined) {
      throw new RobustMQError('CLOSED', `partition ${this.id.topic}-${this.id.partition} ${this.closedReason}`);
    }
  }
}
