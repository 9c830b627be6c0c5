/**
 * Lookups by timestamp (Kafka ListOffsets): the first segment whose largest timestamp reaches the target, the time
 * index to skip most of it, then a scan of batch headers; records are decoded only in the batch that answers.
 * Record-level answers follow the memory engine's helpers (compressed batches answer with their first readable
 * offset), so every engine gives the same result.
 */
import type { TimeLookup } from '../engine.js';
import type { BatchHeader } from '../record-batch.js';
import { firstRecordAtOrAfter, latestRecord } from '../memory/time-lookup.js';
import { assertOpen, storageError, type LogState } from './log-state.js';
import { BatchScanner } from './scanner.js';
import type { Segment } from './segment.js';

export async function findOffsetForTime(state: LogState, timestamp: number): Promise<TimeLookup | undefined> {
  assertOpen(state);
  const { highWatermark: hw, logStartOffset: start } = state;
  try {
    for (const seg of readableSegments(state)) {
      await seg.ensureIndexes();
      if (seg.maxTs < timestamp) continue;
      const from = await seg.positionForTime(timestamp);
      const hit = await scan(state, seg, from, async (h, scanner) => {
        if (h.baseOffset >= hw) return null;
        if (h.baseOffset + h.lastOffsetDelta < start || h.maxTimestamp < timestamp) return undefined;
        return firstRecordAtOrAfter(await scanner.bytes(h), timestamp, start);
      });
      if (hit !== undefined) return hit ?? undefined;
    }
    return undefined;
  } catch (err) {
    throw storageError(state, 'time lookup', err);
  }
}

/**
 * Largest record timestamp at or above the log start, with the first offset carrying it. A segment answers from
 * its stats when the batch that first reached its maximum is readable; otherwise (DeleteRecords cut into the
 * segment above that batch) its readable batches are walked, decoding only the one the log start cuts.
 */
export async function findMaxTimestamp(state: LogState): Promise<TimeLookup | undefined> {
  assertOpen(state);
  const { highWatermark: hw, logStartOffset: start } = state;
  if (hw <= start) return undefined;
  try {
    let best: Candidate | undefined;
    const consider = (c: Candidate): void => {
      if (!best || c.ts > best.ts) best = c;
    };
    for (const seg of readableSegments(state)) {
      await seg.ensureIndexes();
      if (seg.size === 0) continue;
      if (seg.maxTsOffset >= start) {
        consider({ ts: seg.maxTs, resolve: () => recordWithMax(state, seg, seg.maxTsOffset, start) });
        continue;
      }
      const from = (await seg.positionOf(start, seg.size)) ?? seg.size;
      await scan(state, seg, from, async (h, scanner) => {
        if (h.baseOffset >= hw) return null;
        if (h.baseOffset < start) {
          const exact = latestRecord(await scanner.bytes(h), start);
          if (exact) consider({ ts: exact.timestamp, resolve: async () => exact });
        } else {
          consider({ ts: h.maxTimestamp, resolve: () => recordWithMax(state, seg, h.baseOffset, start) });
        }
        return undefined;
      });
    }
    return best ? await (best as Candidate).resolve() : undefined;
  } catch (err) {
    throw storageError(state, 'max timestamp lookup', err);
  }
}

interface Candidate {
  ts: number;
  resolve(): Promise<TimeLookup | undefined>;
}

/** Segments that may hold offsets at or above the log start. */
function readableSegments(state: LogState): Segment[] {
  const segs = state.segments;
  return segs.filter((s, i) => i + 1 >= segs.length || segs[i + 1].base > state.logStartOffset);
}

type Visit<T> = (h: BatchHeader, scanner: BatchScanner) => Promise<T | null | undefined>;

/** Scans batches from `from`: a visit returning a value (or null = stop without one) ends the scan. */
async function scan<T>(state: LogState, seg: Segment, from: number, visit: Visit<T>): Promise<T | null | undefined> {
  return state.ctx.pool.use(seg.paths.log, async (fd) => {
    const scanner = new BatchScanner(fd, from, seg.size);
    for (let h = await scanner.next(); h; h = await scanner.next()) {
      const r = await visit(h, scanner);
      if (r !== undefined) return r;
    }
    return undefined;
  });
}

/** The first record carrying the batch maximum in the batch that starts at `offset`. */
async function recordWithMax(state: LogState, seg: Segment, offset: number, start: number): Promise<TimeLookup | undefined> {
  const position = await seg.positionOf(offset, seg.size);
  if (position === undefined) return undefined;
  const hit = await scan(state, seg, position, async (h, scanner) => latestRecord(await scanner.bytes(h), start) ?? null);
  return hit ?? undefined;
}
