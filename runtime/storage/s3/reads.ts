/**
 * The read side of an S3 partition: fetch by offset (KIP-74 whole batches), lookups by time, and read-ahead for
 * consumers that read sequentially. Ranges come from the block cache or a byte-range GET (see BlockSource).
 */
import { RobustMQError } from '../../errors.js';
import type { ReadResult, TimeLookup } from '../engine.js';
import { firstRecordAtOrAfter, latestRecord } from '../memory/time-lookup.js';
import type { Block } from './block.js';
import type { IndexEntry, PartitionIndex } from './partition-index.js';

export interface BlockSource {
  /** The parsed range of `entry` (cache, or one GET). STORAGE_UNAVAILABLE when S3 does not answer in time. */
  block(entry: IndexEntry): Promise<Block>;
  /** Starts fetching `entries` into the cache in the background. */
  prefetch(entries: IndexEntry[]): void;
  readonly readAheadBytes: number;
}

export interface ReadablePartition {
  readonly label: string;
  readonly index: PartitionIndex;
  highWatermark(): number;
  logStartOffset(): number;
  /** Offset a sequential consumer asks for next (read-ahead trigger). */
  expectNext: number;
}

export async function readPartition(p: ReadablePartition, src: BlockSource, offset: number, maxBytes: number): Promise<ReadResult> {
  const hw = p.highWatermark();
  const start = p.logStartOffset();
  if (!Number.isSafeInteger(offset) || offset < start || offset > hw) {
    throw new RobustMQError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${start}, ${hw}] of ${p.label}`);
  }
  const empty: ReadResult = { chunks: [], bytes: 0, highWatermark: hw, logStartOffset: start };
  const first = p.index.find(offset);
  if (offset === hw || first < 0) return empty;

  // Every range that may contribute is fetched at once: a fetch spanning several ranges pays one round trip.
  const planned: IndexEntry[] = [];
  let planBytes = 0;
  for (let i = first; i < p.index.length && (planned.length === 0 || planBytes < maxBytes); i++) {
    const e = p.index.at(i);
    if (e.base >= hw) break;
    planned.push(e);
    planBytes += e.size;
  }
  const blocks = await Promise.all(planned.map((e) => src.block(e)));

  const chunks: Buffer[] = [];
  let bytes = 0;
  let next = offset;
  outer: for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    for (let j = b === 0 ? block.indexOf(offset) : 0; j < block.count; j++) {
      const batch = block.batch(j);
      // KIP-74: the first batch is returned whatever its size, so a consumer always makes progress.
      if (chunks.length > 0 && bytes + batch.length > maxBytes) break outer;
      chunks.push(batch);
      bytes += batch.length;
      next = block.nextOf(j);
    }
  }
  readAhead(p, src, offset, next, planned[planned.length - 1]);
  return { chunks, bytes, highWatermark: hw, logStartOffset: start };
}

/** A consumer that starts where it stopped last time is sequential: fetch the ranges it will want next. */
function readAhead(p: ReadablePartition, src: BlockSource, offset: number, next: number, lastPlanned: IndexEntry): void {
  const sequential = offset === p.expectNext;
  p.expectNext = next;
  if (!sequential || src.readAheadBytes <= 0) return;
  const ahead: IndexEntry[] = [];
  let bytes = 0;
  for (let i = p.index.find(lastPlanned.next); i >= 0 && i < p.index.length && bytes < src.readAheadBytes; i++) {
    const e = p.index.at(i);
    ahead.push(e);
    bytes += e.size;
  }
  if (ahead.length > 0) src.prefetch(ahead);
}

/** Entries from the one holding the log start, oldest first. */
function liveEntries(p: ReadablePartition): IndexEntry[] {
  const first = p.index.find(p.logStartOffset());
  if (first < 0) return [];
  const out: IndexEntry[] = [];
  for (let i = first; i < p.index.length; i++) out.push(p.index.at(i));
  return out;
}

/** First record at or after the log start whose timestamp is >= `timestamp` (Kafka ListOffsets by time). */
export async function offsetForTime(p: ReadablePartition, src: BlockSource, timestamp: number): Promise<TimeLookup | undefined> {
  const start = p.logStartOffset();
  for (const e of liveEntries(p)) {
    if (e.maxTimestamp < timestamp) continue;
    const block = await src.block(e);
    for (let j = block.indexOf(Math.max(start, e.base)); j < block.count; j++) {
      if (block.maxTimestampOf(j) < timestamp) continue;
      const hit = firstRecordAtOrAfter(block.batch(j), timestamp, start);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Largest record timestamp at or after the log start, with the first offset carrying it (ListOffsets
 * MAX_TIMESTAMP). Only the range holding the log start and the winning range are read: the others are decided by
 * the max timestamp kept in the index.
 */
export async function maxTimestamp(p: ReadablePartition, src: BlockSource): Promise<TimeLookup | undefined> {
  const start = p.logStartOffset();
  const entries = liveEntries(p);
  if (entries.length === 0) return undefined;
  const head = await src.block(entries[0]);
  const j0 = head.indexOf(start);
  let best = latestRecord(head.batch(j0), start);
  let bestTs = best?.timestamp ?? -Infinity;
  let winner: { block: Block; j: number } | undefined;
  for (let j = j0 + 1; j < head.count; j++) {
    if (head.maxTimestampOf(j) > bestTs) {
      bestTs = head.maxTimestampOf(j);
      winner = { block: head, j };
    }
  }
  let winnerEntry: IndexEntry | undefined;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].maxTimestamp > bestTs) {
      bestTs = entries[i].maxTimestamp;
      winnerEntry = entries[i];
    }
  }
  if (winnerEntry) {
    const block = await src.block(winnerEntry);
    let j = 0;
    while (j < block.count - 1 && block.maxTimestampOf(j) < bestTs) j++;
    winner = { block, j };
  }
  if (winner) best = latestRecord(winner.block.batch(winner.j), start);
  return best;
}
