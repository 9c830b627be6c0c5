/**
 * Opening a partition directory. Only the active (last) segment is ever scanned, so startup cost does not grow
 * with the amount of sealed data:
 *
 * - after a clean close the checkpoint records the active segment's size and last batch; when the file still has
 *   that size, its index files are whole and the last batch passes its CRC32C, the segment is resumed as is;
 * - otherwise the active segment is scanned batch by batch (length, magic, offset order, CRC32C), its indexes are
 *   rebuilt, and everything from the first bad batch on — a torn or corrupt tail — is truncated away.
 *
 * Sealed segments were synced when they were rolled; their index files are checked lazily on first use and
 * rebuilt from the log when missing or corrupt.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { readCheckpoint, type CleanState } from './checkpoint.js';
import {
  fdatasync,
  fileSize,
  fsyncDir,
  ftruncate,
  isNotFound,
  LOG_SUFFIX,
  parseSegmentFileName,
  readAt,
  segmentPaths,
  TMP_SUFFIX,
} from './files.js';
import { Segment, type SegmentContext } from './segment.js';
import { OFFSET_LAYOUT, TIME_LAYOUT, type IndexLayout, type SparseIndex } from './sparse-index.js';
import { BatchScanner } from './scanner.js';

export interface RecoveredPartition {
  segments: Segment[];
  logStartOffset: number;
  /** Bytes of the active segment that were scanned (0 after a clean close). */
  scannedBytes: number;
  /** Bytes cut off the active segment's tail. */
  truncatedBytes: number;
  /** The checkpoint on disk already describes this state as cleanly closed (nothing to redo at close). */
  cleanOnDisk: boolean;
}

export async function recoverPartition(dir: string, ctx: SegmentContext, durable: boolean): Promise<RecoveredPartition> {
  const made = await fsp.mkdir(dir, { recursive: true });
  if (made !== undefined && durable) {
    // A new partition directory (and any new parents) must itself survive a power loss.
    await fsyncDir(dirname(dir));
    if (made !== dir) await fsyncDir(dirname(made));
  }
  const [bases, checkpoint] = await Promise.all([listSegments(dir), readCheckpoint(dir)]);
  if (bases.length === 0) {
    const base = checkpoint?.logStartOffset ?? 0;
    const seg = await Segment.create(dir, base, ctx, durable);
    return { segments: [seg], logStartOffset: base, scannedBytes: 0, truncatedBytes: 0, cleanOnDisk: false };
  }
  const segments = await Promise.all(bases.map((base) => openSegment(dir, base, ctx)));
  for (let i = 0; i + 1 < segments.length; i++) segments[i].nextOffset = segments[i + 1].base;
  const active = segments[segments.length - 1];
  const result: RecoveredPartition = { segments, logStartOffset: 0, scannedBytes: 0, truncatedBytes: 0, cleanOnDisk: false };
  const clean = checkpoint?.clean;
  if (clean && clean.base === active.base && (await resume(active, clean, ctx))) {
    result.cleanOnDisk = checkpoint!.logStartOffset >= segments[0].base;
  } else {
    const fileSize = active.size;
    const valid = await active.rebuild(fileSize, true);
    result.scannedBytes = fileSize;
    if (valid < fileSize) {
      ctx.log.warn({ segment: active.paths.log, validBytes: valid, fileSize }, 'truncating torn or corrupt tail');
      await ctx.pool.use(active.paths.log, async (fd) => {
        await ftruncate(fd, valid);
        if (durable) await fdatasync(fd);
      });
      result.truncatedBytes = fileSize - valid;
    }
    active.markChecked();
  }
  result.logStartOffset = Math.max(checkpoint?.logStartOffset ?? 0, segments[0].base);
  if (result.logStartOffset > active.nextOffset) {
    // The tail was lost (an OS crash under flush os) below a recorded log start: offsets must not go back.
    ctx.log.warn({ dir, logStartOffset: result.logStartOffset, nextOffset: active.nextOffset }, 'log ends before its start');
    result.segments = [await Segment.create(dir, result.logStartOffset, ctx, durable)];
    result.cleanOnDisk = false;
    for (const seg of segments) await seg.remove();
  }
  return result;
}

/** Base offsets of the segments, ascending; removes leftovers of interrupted rewrites and orphaned index files. */
async function listSegments(dir: string): Promise<number[]> {
  const names = await fsp.readdir(dir);
  const logs = new Set<number>();
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.suffix === LOG_SUFFIX) logs.add(parsed.base);
  }
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    const orphan = parsed && parsed.suffix !== LOG_SUFFIX && !logs.has(parsed.base);
    if (orphan || name.endsWith(TMP_SUFFIX)) await fsp.rm(join(dir, name), { force: true });
  }
  return [...logs].sort((a, b) => a - b);
}

async function openSegment(dir: string, base: number, ctx: SegmentContext): Promise<Segment> {
  const st = await fsp.stat(segmentPaths(dir, base).log);
  const seg = new Segment(dir, base, ctx, st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs);
  seg.size = st.size;
  return seg;
}

/** Resumes a cleanly closed active segment; false when anything does not match (the caller then scans). */
async function resume(seg: Segment, clean: CleanState, ctx: SegmentContext): Promise<boolean> {
  if (seg.size !== clean.size) return false;
  const [offsets, times, tailIntact] = await Promise.all([
    lastEntryOf(seg.offsetIndex, OFFSET_LAYOUT, ctx),
    lastEntryOf(seg.timeIndex, TIME_LAYOUT, ctx),
    clean.lastBatchPos >= 0
      ? lastBatchIntact(seg, clean, ctx).catch(() => false)
      : clean.size === 0 && clean.nextOffset === seg.base,
  ]);
  if (!offsets || !times || !tailIntact) return false;
  if (offsets.last && offsets.last.value >= clean.size) return false;
  if (clean.size > 0 && (!times.last || times.last.key !== clean.maxTs)) return false;
  seg.offsetIndex.adopt(offsets.count, offsets.last);
  seg.timeIndex.adopt(times.count, times.last);
  seg.resume(clean);
  return true;
}

interface IndexTail {
  count: number;
  last?: { key: number; value: number };
}

async function lastEntryOf(index: SparseIndex, layout: IndexLayout, ctx: SegmentContext): Promise<IndexTail | undefined> {
  try {
    return await ctx.pool.use(index.path, async (fd) => {
      const size = await fileSize(fd);
      if (size % layout.entrySize !== 0) return undefined;
      const count = size / layout.entrySize;
      if (count === 0) return { count };
      const buf = await readAt(fd, size - layout.entrySize, layout.entrySize);
      return { count, last: { key: layout.readKey(buf, 0), value: layout.readValue(buf, 0) } };
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function lastBatchIntact(seg: Segment, clean: CleanState, ctx: SegmentContext): Promise<boolean> {
  return ctx.pool.use(seg.paths.log, async (fd) => {
    const scanner = new BatchScanner(fd, clean.lastBatchPos, clean.size);
    const h = await scanner.next();
    if (!h || h.position + h.size !== clean.size) return false;
    if (h.baseOffset + h.lastOffsetDelta + 1 !== clean.nextOffset) return false;
    return scanner.intact(h);
  });
}
