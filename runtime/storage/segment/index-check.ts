/**
 * Sanity checks of index files read back from disk. A file that fails is rebuilt from its log: indexes are
 * derived data, so rebuilding is always safe, only slower.
 */
import { OFFSET_LAYOUT, TIME_LAYOUT } from './sparse-index.js';

/** Entries whole; relative offsets and positions strictly increasing; every position inside the log. */
export function checkOffsetIndex(buf: Buffer, logSize: number): string | undefined {
  if (buf.length % OFFSET_LAYOUT.entrySize !== 0) return `length ${buf.length} is not a whole number of entries`;
  const count = buf.length / OFFSET_LAYOUT.entrySize;
  let prevKey = -1;
  let prevPos = -1;
  for (let i = 0; i < count; i++) {
    const key = OFFSET_LAYOUT.readKey(buf, i);
    const pos = OFFSET_LAYOUT.readValue(buf, i);
    if (key <= prevKey || pos <= prevPos) return `entry ${i} is out of order`;
    if (pos >= logSize) return `entry ${i} points past the log end`;
    prevKey = key;
    prevPos = pos;
  }
  return undefined;
}

/**
 * Entries whole; timestamps strictly increasing; relative offsets never decreasing. A sealed segment holding data
 * always has at least the final entry.
 */
export function checkTimeIndex(buf: Buffer, hasData: boolean): string | undefined {
  if (buf.length % TIME_LAYOUT.entrySize !== 0) return `length ${buf.length} is not a whole number of entries`;
  const count = buf.length / TIME_LAYOUT.entrySize;
  if (hasData && count === 0) return 'empty although the segment holds data';
  let prevTs = -Infinity;
  let prevRel = -1;
  for (let i = 0; i < count; i++) {
    const ts = TIME_LAYOUT.readKey(buf, i);
    const rel = TIME_LAYOUT.readValue(buf, i);
    if (ts <= prevTs || rel < prevRel) return `entry ${i} is out of order`;
    prevTs = ts;
    prevRel = rel;
  }
  return undefined;
}
