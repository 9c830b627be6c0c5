/**
 * Record-level time lookups inside one stored batch (Kafka ListOffsets by timestamp and MAX_TIMESTAMP).
 * Uncompressed batches are decoded for the exact record. Compressed batches are not decompressed here: the answer
 * is the batch's first readable offset with the batch maxTimestamp, so a consumer starting there sees the record.
 */
import type { TimeLookup } from '../engine.js';
import { Compression, compressionOf, decodeRecords, readBatchHeader } from '../record-batch.js';

/**
 * First record at or after `minOffset` whose timestamp is >= `timestamp`, or undefined when the batch has none
 * (Kafka LogSegment.findOffsetByTimestamp: records below the log start do not count).
 */
export function firstRecordAtOrAfter(batch: Buffer, timestamp: number, minOffset: number): TimeLookup | undefined {
  const header = readBatchHeader(batch);
  if (header.maxTimestamp < timestamp) return undefined;
  if (compressionOf(header.attributes) !== Compression.None) {
    return { offset: Math.max(header.baseOffset, minOffset), timestamp: header.maxTimestamp };
  }
  for (const r of decodeRecords(batch, header)) {
    if (r.offset >= minOffset && r.timestamp >= timestamp) return { offset: r.offset, timestamp: r.timestamp };
  }
  return undefined;
}

/** The largest timestamp among records at or after `minOffset`, with the first offset carrying it. */
export function latestRecord(batch: Buffer, minOffset: number): TimeLookup | undefined {
  const header = readBatchHeader(batch);
  if (compressionOf(header.attributes) !== Compression.None) {
    return { offset: Math.max(header.baseOffset, minOffset), timestamp: header.maxTimestamp };
  }
  let best: TimeLookup | undefined;
  for (const r of decodeRecords(batch, header)) {
    if (r.offset >= minOffset && (best === undefined || r.timestamp > best.timestamp)) {
      best = { offset: r.offset, timestamp: r.timestamp };
    }
  }
  return best;
}
