/** Builders and readers of RecordBatch v2 bytes for tests. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import type { PartitionLog } from '../../runtime/storage/engine.js';
import {
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  Compression,
  decodeRecords,
  encodeRecordBatch,
  type BatchOptions,
  type DecodedRecord,
  type RecordInput,
} from '../../runtime/storage/record-batch.js';

export interface TextBatchOptions extends BatchOptions {
  /** One timestamp per value; defaults to `timestamp` (or now) for all. */
  timestamps?: number[];
  /** One key per value (null = no key); defaults to no keys. */
  keys?: (string | null)[];
}

/** One uncompressed batch whose record values are the given strings. */
export function textBatch(values: string[], options: TextBatchOptions = {}): Buffer {
  const { timestamps, keys, ...batchOptions } = options;
  const records: RecordInput[] = values.map((v, i) => ({
    key: keys?.[i] == null ? null : Buffer.from(keys[i]!),
    value: Buffer.from(v),
    timestamp: timestamps?.[i],
  }));
  return encodeRecordBatch(records, { timestamp: timestamps?.[0], ...batchOptions });
}

/** `count` values `${prefix}0`, `${prefix}1`, ... */
export function texts(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

/** Decodes every record of the given whole, uncompressed batches. */
export function decodeChunks(chunks: Buffer[]): DecodedRecord[] {
  return chunks.flatMap((chunk) => decodeRecords(chunk));
}

export function valueText(r: DecodedRecord): string {
  return r.value === null ? '<null>' : r.value.toString('utf8');
}

/** Every record from `from` (default: the log start) up to the high watermark, reading `maxBytes` at a time. */
export async function readAll(log: PartitionLog, from = log.logStartOffset(), maxBytes = 64 * 1024): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  let offset = from;
  while (offset < log.highWatermark()) {
    const { chunks } = await log.read(offset, maxBytes);
    if (chunks.length === 0) break;
    const records = decodeChunks(chunks).filter((r) => r.offset >= offset);
    out.push(...records);
    offset = records.length > 0 ? records[records.length - 1].offset + 1 : offset + 1;
  }
  return out;
}

/** A fresh directory under the OS temp dir; the caller removes it. */
export function tempDir(prefix = 'robustmq-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Re-packs an uncompressed batch as a valid gzip-compressed one (attributes codec 1, CRC recomputed). */
export function gzipBatch(batch: Buffer): Buffer {
  const records = gzipSync(batch.subarray(BATCH_HEADER_SIZE));
  const out = Buffer.concat([batch.subarray(0, BATCH_HEADER_SIZE), records]);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt16BE((out.readInt16BE(21) & ~0x07) | Compression.Gzip, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}
