/**
 * Moving the log start: DeleteRecords, time retention and size retention. Data goes a whole segment at a time;
 * the new log start offset is written to the partition checkpoint before any file is deleted, so a crash in
 * between leaves at worst a segment that the next pass removes. These run as writer jobs (no append in flight).
 */
import { writeCheckpoint } from './checkpoint.js';
import type { LogState } from './log-state.js';
import type { Segment } from './segment.js';
import type { LogWriter } from './writer.js';

/** Kafka DeleteRecords: the start moves to `offset`; segments wholly below it are deleted. */
export async function deleteBefore(state: LogState, writer: LogWriter, offset: number): Promise<number> {
  if (offset <= state.logStartOffset) return state.logStartOffset;
  await moveStart(state, offset);
  await dropLeading(state, writer, countBelow(state.segments, offset));
  return state.logStartOffset;
}

/**
 * Time retention drops leading segments whose largest timestamp is older than `now - retentionMs`; size retention
 * then drops leading segments while the partition holds more than `retentionBytes`. When the active segment must
 * go too, a new empty one is rolled first, so the next offset is kept.
 */
export async function applyRetention(state: LogState, writer: LogWriter, nowMs: number): Promise<number> {
  const { retentionMs, retentionBytes } = state.config;
  let drop = 0;
  if (retentionMs >= 0) {
    const cutoff = nowMs - retentionMs;
    while (drop < state.segments.length && state.segments[drop].size > 0) {
      if ((await state.segments[drop].largestTimestamp()) >= cutoff) break;
      drop++;
    }
  }
  if (retentionBytes >= 0) {
    let excess = state.segments.reduce((n, s) => n + s.size, 0) - retentionBytes;
    for (let i = 0; i < drop; i++) excess -= state.segments[i].size;
    while (excess > 0 && drop < state.segments.length && state.segments[drop].size > 0) {
      excess -= state.segments[drop].size;
      drop++;
    }
  }
  if (drop === 0) return state.logStartOffset;
  if (drop === state.segments.length) await writer.roll();
  const next = state.segments[drop];
  if (next.base > state.logStartOffset) await moveStart(state, next.base);
  await dropLeading(state, writer, drop);
  return state.logStartOffset;
}

/** Segments wholly below `offset` (never the active one). */
function countBelow(segments: Segment[], offset: number): number {
  let n = 0;
  while (n + 1 < segments.length && segments[n + 1].base <= offset) n++;
  return n;
}

async function moveStart(state: LogState, offset: number): Promise<void> {
  state.cleanOnDisk = false;
  await writeCheckpoint(state.dir, { logStartOffset: offset });
  state.logStartOffset = offset;
}

async function dropLeading(state: LogState, writer: LogWriter, count: number): Promise<void> {
  if (count === 0) return;
  const gone = state.segments.slice(0, count);
  state.segments = state.segments.slice(count);
  if (state.segments.length === 0) throw new Error('retention must keep the active segment');
  for (const seg of gone) {
    writer.forget(seg);
    await seg.remove();
  }
}
