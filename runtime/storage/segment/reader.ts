/**
 * Reads by offset: find the segment (binary search over base offsets), then the batch (sparse index, then a short
 * scan of headers), then read whole batches straight from the file into one buffer and hand out views of it — the
 * stored bytes, never re-encoded. A consumer reading sequentially skips the index through a small position hint.
 */
import { RobustMQError } from '../../errors.js';
import type { ReadResult } from '../engine.js';
import { BATCH_HEADER_SIZE, BATCH_LOG_OVERHEAD } from '../record-batch.js';
import { isNotFound, readAt } from './files.js';
import { assertOpen, outOfRange, storageError, type LogState } from './log-state.js';
import type { Segment } from './segment.js';

/** Largest single read from one segment, whatever maxBytes asks (a larger first batch is still read whole). */
export const MAX_READ_BYTES = 16 * 1024 * 1024;
const MAX_HINTS = 8;
/** Read at least this much when a batch must be returned whatever maxBytes says (most batches fit). */
const FIRST_READ_BYTES = 16 * 1024;

export async function readLog(state: LogState, offset: number, maxBytes: number): Promise<ReadResult> {
  for (let attempt = 0; ; attempt++) {
    assertOpen(state);
    const hw = state.highWatermark;
    const logStartOffset = state.logStartOffset;
    if (!Number.isSafeInteger(offset) || offset < logStartOffset || offset > hw) throw outOfRange(state, `offset ${offset}`);
    if (offset === hw) return { chunks: [], bytes: 0, highWatermark: hw, logStartOffset };
    try {
      const chunks = await readChunks(state, offset, Math.max(0, maxBytes), hw);
      const bytes = chunks.reduce((n, c) => n + c.length, 0);
      return { chunks, bytes, highWatermark: hw, logStartOffset };
    } catch (err) {
      // Retention removed a segment under the read: look again (the range check then answers).
      if (attempt < 3 && (isNotFound(err) || err instanceof SegmentGone)) continue;
      if (err instanceof RobustMQError) throw err;
      assertOpen(state);
      throw storageError(state, 'read', err);
    }
  }
}

class SegmentGone extends Error {}

/** Index of the last segment whose base offset is <= offset (0 when offset precedes every segment). */
export function segmentFor(segments: Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid].base <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

async function readChunks(state: LogState, offset: number, maxBytes: number, hw: number): Promise<Buffer[]> {
  const segments = state.segments;
  let i = segmentFor(segments, offset);
  let position = hintFor(state, segments[i], offset) ?? (await segments[i].positionOf(offset, segments[i].size));
  const chunks: Buffer[] = [];
  let budget = maxBytes;
  while (i < segments.length) {
    const seg = segments[i];
    if (seg.deleted) throw new SegmentGone();
    if (position !== undefined && position < seg.size) {
      const part = await readBatches(state, seg, position, budget, chunks.length === 0, hw);
      if (part.batches.length > 0) {
        chunks.push(...part.batches);
        budget -= part.bytes;
        remember(state, { segment: seg, offset: part.nextOffset, position: position + part.bytes });
      }
      if (!part.segmentDone) break;
    }
    i++;
    position = 0;
  }
  return chunks;
}

interface Part {
  /** Views of one buffer read from the file, a batch each. */
  batches: Buffer[];
  bytes: number;
  /** Offset after the last batch in `buf`. */
  nextOffset: number;
  /** Everything readable in this segment was taken, so the read may go on into the next one. */
  segmentDone: boolean;
}

/** Whole batches from `position`, within `budget` bytes (or exactly one when `atLeastOne`), below `hw`. */
async function readBatches(
  state: LogState,
  seg: Segment,
  position: number,
  budget: number,
  atLeastOne: boolean,
  hw: number,
): Promise<Part> {
  const available = seg.size - position;
  return state.ctx.pool.use(seg.paths.log, async (fd) => {
    let want = Math.min(available, budget, MAX_READ_BYTES);
    if (atLeastOne) want = Math.max(want, Math.min(available, FIRST_READ_BYTES));
    let buf = want >= BATCH_HEADER_SIZE ? await readAt(fd, position, want) : Buffer.alloc(0);
    if (atLeastOne && buf.length >= BATCH_LOG_OVERHEAD) {
      // KIP-74: a first batch larger than maxBytes is still returned whole.
      const first = Math.min(available, buf.readInt32BE(8) + BATCH_LOG_OVERHEAD);
      if (first > buf.length) buf = Buffer.concat([buf, await readAt(fd, position + buf.length, first - buf.length)]);
    }
    const batches: Buffer[] = [];
    let end = 0;
    let nextOffset = -1;
    let reachedHw = false;
    while (end + BATCH_HEADER_SIZE <= buf.length) {
      const base = Number(buf.readBigInt64BE(end));
      if (base >= hw) {
        reachedHw = true;
        break;
      }
      const size = buf.readInt32BE(end + 8) + BATCH_LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || end + size > buf.length) break;
      if (end + size > budget && (batches.length > 0 || !atLeastOne)) break;
      nextOffset = base + buf.readInt32BE(end + 23) + 1;
      batches.push(buf.subarray(end, end + size));
      end += size;
    }
    return { batches, bytes: end, nextOffset, segmentDone: !reachedHw && end === available };
  });
}

function hintFor(state: LogState, seg: Segment, offset: number): number | undefined {
  const hint = state.hints.find((h) => h.segment === seg && h.offset === offset);
  return hint && !seg.deleted ? hint.position : undefined;
}

function remember(state: LogState, hint: LogState['hints'][number]): void {
  const hints = state.hints.filter((h) => h.offset !== hint.offset && !h.segment.deleted);
  hints.unshift(hint);
  state.hints = hints.slice(0, MAX_HINTS);
}
