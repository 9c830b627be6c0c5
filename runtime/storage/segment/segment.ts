/**
 * One segment of a partition log: `<base>.log` holding RecordBatch v2 bytes back to back, a sparse offset index
 * (`<base>.index`) and a time index (`<base>.timeindex`), named by the base offset (Kafka's layout).
 *
 * Index entries are added before a batch once more than `indexIntervalBytes` were written since the last entry.
 * A time index entry (max timestamp so far, relative offset of the batch that first reached it) goes with each
 * offset index entry when the max grew, plus a final one when the segment is sealed, so a sealed segment's largest
 * timestamp is its time index's last entry.
 */
import { promises as fsp } from 'node:fs';
import type { Logger } from '../../logger.js';
import type { BatchHeader } from '../record-batch.js';
import type { FilePool } from './file-pool.js';
import { fdatasync, fileSize, fsyncDir, ftruncate, isNotFound, readAt, segmentPaths } from './files.js';
import type { IndexCache } from './index-cache.js';
import { checkOffsetIndex, checkTimeIndex } from './index-check.js';
import { BatchScanner } from './scanner.js';
import { OFFSET_LAYOUT, PERSIST_BATCH, SparseIndex, TIME_LAYOUT } from './sparse-index.js';

export interface SegmentContext {
  readonly pool: FilePool;
  readonly cache: IndexCache;
  readonly indexIntervalBytes: number;
  readonly log: Logger;
  /** Log fdatasyncs issued, for group-commit statistics. */
  readonly counters: { syncs: number };
}

type BatchFacts = Pick<BatchHeader, 'baseOffset' | 'lastOffsetDelta' | 'maxTimestamp' | 'position' | 'size'>;

export class Segment {
  readonly paths: { log: string; index: string; timeIndex: string };
  readonly offsetIndex: SparseIndex;
  readonly timeIndex: SparseIndex;
  /** Bytes written to the log file. */
  size = 0;
  /** Offset after the last batch (exact for the active segment; for sealed ones once indexes were checked). */
  nextOffset: number;
  lastBatchPos = -1;
  /** Largest batch max-timestamp and the base offset of the batch that first reached it. */
  maxTs = -1;
  maxTsOffset: number;
  /** Wall-clock time the segment was created (drives `segmentMs` rolling). */
  createdMs: number;
  deleted = false;
  private bytesSinceIndex = 0;
  private checked?: Promise<void>;

  constructor(
    private readonly dir: string,
    readonly base: number,
    private readonly ctx: SegmentContext,
    createdMs = Date.now(),
  ) {
    this.paths = segmentPaths(dir, base);
    this.offsetIndex = new SparseIndex(this.paths.index, OFFSET_LAYOUT, ctx.pool, ctx.cache);
    this.timeIndex = new SparseIndex(this.paths.timeIndex, TIME_LAYOUT, ctx.pool, ctx.cache);
    this.nextOffset = base;
    this.maxTsOffset = base;
    this.createdMs = createdMs;
  }

  /** Creates an empty segment file; `durable` also makes its directory entry durable. */
  static async create(dir: string, base: number, ctx: SegmentContext, durable: boolean): Promise<Segment> {
    const seg = new Segment(dir, base, ctx);
    await ctx.pool.use(seg.paths.log, (fd) => ftruncate(fd, 0), true);
    if (durable) await fsyncDir(dir);
    seg.checked = Promise.resolve();
    return seg;
  }

  /** Marks the indexes as trusted (the active segment after recovery). */
  markChecked(): void {
    this.checked = Promise.resolve();
  }

  /** Records a batch just written at `facts.position`: index entries, stats. */
  noteBatch(facts: BatchFacts): void {
    if (facts.maxTimestamp > this.maxTs) {
      this.maxTs = facts.maxTimestamp;
      this.maxTsOffset = facts.baseOffset;
    }
    if (this.bytesSinceIndex > this.ctx.indexIntervalBytes) {
      this.offsetIndex.append(facts.baseOffset - this.base, facts.position);
      this.appendTimeEntry();
      this.bytesSinceIndex = 0;
    }
    this.bytesSinceIndex += facts.size;
    this.size = Math.max(this.size, facts.position + facts.size);
    this.nextOffset = facts.baseOffset + facts.lastOffsetDelta + 1;
    this.lastBatchPos = facts.position;
  }

  /** Restores the writer state of a cleanly closed active segment. */
  resume(state: { size: number; nextOffset: number; lastBatchPos: number; maxTs: number; maxTsOffset: number }): void {
    Object.assign(this, state);
    this.bytesSinceIndex = state.size - (this.offsetIndex.last?.value ?? 0);
    this.markChecked();
  }

  /** Index tails worth writing out now (called by the writer between groups). */
  async persistIndexesIfDue(): Promise<void> {
    if (this.offsetIndex.unpersisted >= PERSIST_BATCH) await this.offsetIndex.persist();
    if (this.timeIndex.unpersisted >= PERSIST_BATCH) await this.timeIndex.persist();
  }

  /** Writes out the indexes with the final time entry; `sync` also fdatasyncs the log and both indexes. */
  async seal(sync: boolean): Promise<void> {
    if (this.timeIndex.count === 0 || this.maxTs > this.timeIndex.last!.key) {
      this.timeIndex.append(this.maxTs, Math.max(0, this.maxTsOffset - this.base));
    }
    await Promise.all([this.offsetIndex.persist(), this.timeIndex.persist()]);
    if (sync) await Promise.all([this.syncLog(), this.offsetIndex.sync(), this.timeIndex.sync()]);
  }

  syncLog(): Promise<void> {
    this.ctx.counters.syncs++;
    return this.ctx.pool.use(this.paths.log, fdatasync);
  }

  /** Checks (once) the index files of a sealed segment and rebuilds them from the log when missing or corrupt. */
  ensureIndexes(): Promise<void> {
    this.checked ??= this.checkIndexes().catch((err: unknown) => {
      this.checked = undefined;
      throw err;
    });
    return this.checked;
  }

  /** Largest timestamp for time retention: the max batch timestamp, or the file's mtime when batches carry none. */
  async largestTimestamp(): Promise<number> {
    await this.ensureIndexes();
    if (this.maxTs >= 0) return this.maxTs;
    return (await fsp.stat(this.paths.log)).mtimeMs;
  }

  /** Start of the batch holding `offset` (or the first batch after it) below `end`; undefined when none. */
  async positionOf(offset: number, end: number): Promise<number | undefined> {
    await this.ensureIndexes();
    const entry = await this.offsetIndex.floor(Math.max(0, offset - this.base));
    return this.ctx.pool.use(this.paths.log, async (fd) => {
      const scan = new BatchScanner(fd, entry?.value ?? 0, end);
      for (let h = await scan.next(); h; h = await scan.next()) {
        if (h.baseOffset + h.lastOffsetDelta >= offset) return h.position;
      }
      return undefined;
    });
  }

  /** A position from which a scan finds the first record with timestamp >= `timestamp` in this segment. */
  async positionForTime(timestamp: number): Promise<number> {
    await this.ensureIndexes();
    const t = await this.timeIndex.floor(timestamp);
    if (!t) return 0;
    return (await this.offsetIndex.floor(t.value))?.value ?? 0;
  }

  /**
   * Rebuilds both indexes and the stats by scanning the log up to `end`. With `verify`, every batch's CRC32C is
   * checked too. Stops at the first batch that is torn, corrupt or not at the next offset; returns where it stopped.
   */
  async rebuild(end: number, verify: boolean): Promise<number> {
    await Promise.all([this.offsetIndex.reset(), this.timeIndex.reset()]);
    Object.assign(this, { size: 0, nextOffset: this.base, lastBatchPos: -1, maxTs: -1, maxTsOffset: this.base });
    this.bytesSinceIndex = 0;
    await this.ctx.pool.use(this.paths.log, async (fd) => {
      const scan = new BatchScanner(fd, 0, end, 1024 * 1024);
      for (let h = await scan.next(); h; h = await scan.next()) {
        // Offsets inside a segment are dense (the writer assigns them in order), and the CRC does not cover them.
        if (h.baseOffset !== this.nextOffset || h.magic !== 2) break;
        if (verify && !(await scan.intact(h))) break;
        this.noteBatch(h);
        if (this.offsetIndex.unpersisted >= 8 * PERSIST_BATCH) await this.persistIndexesIfDue();
      }
    });
    await Promise.all([this.offsetIndex.persist(), this.timeIndex.persist()]);
    return this.size;
  }

  /** Releases descriptors and cached memory (partition closed). */
  release(): void {
    this.offsetIndex.release();
    this.timeIndex.release();
    this.ctx.pool.forget(this.paths.log);
  }

  /** Deletes the segment's files. */
  async remove(): Promise<void> {
    this.deleted = true;
    this.release();
    for (const path of [this.paths.log, this.paths.index, this.paths.timeIndex]) {
      await fsp.unlink(path).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  private appendTimeEntry(): void {
    const last = this.timeIndex.last;
    if (!last || this.maxTs > last.key) this.timeIndex.append(this.maxTs, this.maxTsOffset - this.base);
  }

  private async checkIndexes(): Promise<void> {
    const [offsets, times] = await Promise.all([
      readWhole(this.ctx.pool, this.paths.index),
      readWhole(this.ctx.pool, this.paths.timeIndex),
    ]);
    const offsetProblem = offsets === undefined ? 'missing' : checkOffsetIndex(offsets, this.size);
    const timeProblem = times === undefined ? 'missing' : checkTimeIndex(times, this.size > 0);
    if (!offsetProblem && !timeProblem) {
      const o = offsets!.length / OFFSET_LAYOUT.entrySize;
      const t = times!.length / TIME_LAYOUT.entrySize;
      this.offsetIndex.adopt(o, lastEntry(OFFSET_LAYOUT, offsets!, o), offsets);
      this.timeIndex.adopt(t, lastEntry(TIME_LAYOUT, times!, t), times);
      const final = this.timeIndex.last;
      if (final) {
        this.maxTs = final.key;
        this.maxTsOffset = this.base + final.value;
      }
      return;
    }
    this.ctx.log.warn(
      { segment: this.paths.log, offsetIndex: offsetProblem, timeIndex: timeProblem },
      'rebuilding segment indexes',
    );
    const end = await this.rebuild(this.size, false);
    if (end < this.size) {
      this.ctx.log.error({ segment: this.paths.log, validBytes: end, size: this.size }, 'sealed segment has an unreadable tail');
      this.size = end;
    }
    await this.seal(true);
  }
}

async function readWhole(pool: FilePool, path: string): Promise<Buffer | undefined> {
  try {
    return await pool.use(path, async (fd) => readAt(fd, 0, await fileSize(fd)));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function lastEntry(layout: typeof OFFSET_LAYOUT, buf: Buffer, count: number): { key: number; value: number } | undefined {
  if (count === 0) return undefined;
  return { key: layout.readKey(buf, count - 1), value: layout.readValue(buf, count - 1) };
}
