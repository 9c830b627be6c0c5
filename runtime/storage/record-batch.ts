/**
 * Kafka RecordBatch v2 (magic 2): the unit every storage engine stores. This module validates batches without
 * decompressing them, rewrites base offsets in place, builds batches from records (MQTT publishes become records)
 * and decodes the records of uncompressed batches. Layout: Kafka's "Record Batch" message format (KIP-98).
 */
import { crc32c } from '@node-rs/crc32';
import { RobustMQError } from '../errors.js';
import { readVarint, varintSize, writeVarint } from './varint.js';

export const BATCH_HEADER_SIZE = 61;
/** Bytes of baseOffset (8) + batchLength (4): batchLength counts what follows them. */
export const BATCH_LOG_OVERHEAD = 12;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;

export const enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export interface BatchHeader {
  /** Position of the batch inside the buffer it was read from. */
  position: number;
  /** Total size of the batch in bytes (batchLength + 12). */
  size: number;
  baseOffset: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function compressionOf(attributes: number): Compression {
  return (attributes & 0x07) as Compression;
}
export function isTransactional(attributes: number): boolean {
  return (attributes & 0x10) !== 0;
}
export function isControl(attributes: number): boolean {
  return (attributes & 0x20) !== 0;
}
/** Bit 3: timestamps are LogAppendTime rather than CreateTime. */
export function isLogAppendTime(attributes: number): boolean {
  return (attributes & 0x08) !== 0;
}

/** Reads the fixed header of the batch at `pos` (no validation beyond bounds). */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  if (buf.length - pos < BATCH_HEADER_SIZE) {
    throw new RobustMQError('CORRUPT_RECORD', `record batch header truncated: ${buf.length - pos} bytes`);
  }
  const batchLength = buf.readInt32BE(pos + 8);
  return {
    position: pos,
    size: batchLength + BATCH_LOG_OVERHEAD,
    baseOffset: Number(buf.readBigInt64BE(pos)),
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: Number(buf.readBigInt64BE(pos + 27)),
    maxTimestamp: Number(buf.readBigInt64BE(pos + 35)),
    producerId: Number(buf.readBigInt64BE(pos + 43)),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
  };
}

/**
 * Checks a buffer of concatenated batches: every batch complete, magic 2, CRC32C correct, record count consistent
 * with lastOffsetDelta. Does not decompress. Throws CORRUPT_RECORD (or RECORD_TOO_LARGE) naming the problem.
 */
export function validateBatches(buf: Buffer, maxBatchBytes = Number.MAX_SAFE_INTEGER): BatchHeader[] {
  const headers: BatchHeader[] = [];
  let pos = 0;
  if (buf.length === 0) throw new RobustMQError('CORRUPT_RECORD', 'empty record set');
  while (pos < buf.length) {
    // Magic first: an old-format message set (magic 0/1) is shorter than a v2 header and deserves that diagnosis.
    if (buf.length - pos > MAGIC_OFFSET && buf.readInt8(pos + MAGIC_OFFSET) !== 2) {
      throw new RobustMQError('CORRUPT_RECORD', `unsupported record batch magic ${buf.readInt8(pos + MAGIC_OFFSET)}`);
    }
    if (buf.length - pos < BATCH_HEADER_SIZE) {
      throw new RobustMQError('CORRUPT_RECORD', `trailing ${buf.length - pos} bytes are not a whole record batch`);
    }
    const h = readBatchHeader(buf, pos);
    if (h.size < BATCH_HEADER_SIZE) throw new RobustMQError('CORRUPT_RECORD', `record batch length ${h.size} too small`);
    if (h.size > maxBatchBytes) {
      throw new RobustMQError('RECORD_TOO_LARGE', `record batch of ${h.size} bytes exceeds ${maxBatchBytes}`);
    }
    if (pos + h.size > buf.length) throw new RobustMQError('CORRUPT_RECORD', 'record batch truncated');
    const actual = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + h.size));
    if (actual !== h.crc) throw new RobustMQError('CORRUPT_RECORD', 'record batch CRC32C mismatch');
    // Kafka's LogValidator rule for batches from clients: at least one record, and exactly lastOffsetDelta + 1 of them.
    if (h.recordCount < 1 || h.lastOffsetDelta + 1 !== h.recordCount) {
      throw new RobustMQError(
        'CORRUPT_RECORD',
        `record count ${h.recordCount} inconsistent with last offset delta ${h.lastOffsetDelta}`,
      );
    }
    if (compressionOf(h.attributes) > Compression.Zstd) {
      throw new RobustMQError('CORRUPT_RECORD', `unknown compression codec ${compressionOf(h.attributes)}`);
    }
    headers.push(h);
    pos += h.size;
  }
  return headers;
}

/** Rewrites the base offset of the batch at `pos` in place. The CRC does not cover it, so it stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  buf.writeBigInt64BE(BigInt(offset), pos);
}

/** Sets the partition leader epoch (also outside the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + 12);
}

/**
 * Headers of concatenated batches for an engine's append: refuses input that is not a whole number of batches
 * (CRC and counts are the caller's `validateBatches`).
 */
export function splitBatches(buf: Buffer): BatchHeader[] {
  const headers: BatchHeader[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const h = buf.length - pos < BATCH_HEADER_SIZE ? undefined : readBatchHeader(buf, pos);
    if (!h || h.magic !== 2 || h.size < BATCH_HEADER_SIZE || pos + h.size > buf.length || h.lastOffsetDelta < 0) {
      throw new RobustMQError('CORRUPT_RECORD', `record batch at byte ${pos} is malformed or truncated`);
    }
    headers.push(h);
    pos += h.size;
  }
  if (headers.length === 0) throw new RobustMQError('CORRUPT_RECORD', 'empty record set');
  return headers;
}

/** Iterates the headers of concatenated, already-validated batches. */
export function* batchHeaders(buf: Buffer): Generator<BatchHeader> {
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const h = readBatchHeader(buf, pos);
    if (h.size < BATCH_HEADER_SIZE || pos + h.size > buf.length) return;
    yield h;
    pos += h.size;
  }
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Defaults to the batch timestamp. */
  timestamp?: number;
}

export interface BatchOptions {
  baseOffset?: number;
  /** Base timestamp; defaults to the first record's timestamp or now. */
  timestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
}

function recordBodySize(r: RecordInput, tsDelta: number, offsetDelta: number): number {
  let size = 1 + varintSize(tsDelta) + varintSize(offsetDelta);
  size += r.key ? varintSize(r.key.length) + r.key.length : 1;
  size += r.value ? varintSize(r.value.length) + r.value.length : 1;
  const headers = r.headers ?? [];
  size += varintSize(headers.length);
  for (const h of headers) {
    const kl = Buffer.byteLength(h.key);
    size += varintSize(kl) + kl;
    size += h.value ? varintSize(h.value.length) + h.value.length : 1;
  }
  return size;
}

/** Builds one uncompressed RecordBatch v2 holding `records` (CreateTime timestamps). */
export function encodeRecordBatch(records: RecordInput[], options: BatchOptions = {}): Buffer {
  if (records.length === 0) throw new RobustMQError('INVALID_ARGUMENT', 'a record batch needs at least one record');
  const baseTimestamp = options.timestamp ?? records[0].timestamp ?? Date.now();
  let maxTimestamp = baseTimestamp;
  const sizes: number[] = [];
  let total = BATCH_HEADER_SIZE;
  for (let i = 0; i < records.length; i++) {
    const ts = records[i].timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const body = recordBodySize(records[i], ts - baseTimestamp, i);
    sizes.push(body);
    total += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  buf.writeBigInt64BE(BigInt(options.baseOffset ?? 0), 0);
  buf.writeInt32BE(total - BATCH_LOG_OVERHEAD, 8);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(BigInt(options.producerId ?? -1), 43);
  buf.writeInt16BE(options.producerEpoch ?? -1, 51);
  buf.writeInt32BE(options.baseSequence ?? -1, 53);
  buf.writeInt32BE(records.length, 57);
  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    pos = writeVarint(buf, pos, sizes[i]);
    buf[pos++] = 0;
    pos = writeVarint(buf, pos, (r.timestamp ?? baseTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytes(buf, pos, r.key ?? null);
    pos = writeBytes(buf, pos, r.value);
    const headers = r.headers ?? [];
    pos = writeVarint(buf, pos, headers.length);
    for (const h of headers) {
      pos = writeBytes(buf, pos, Buffer.from(h.key));
      pos = writeBytes(buf, pos, h.value);
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}

function writeBytes(buf: Buffer, pos: number, bytes: Buffer | null): number {
  if (bytes === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, bytes.length);
  bytes.copy(buf, pos);
  return pos + bytes.length;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/**
 * Decodes the records of one batch whose records section is uncompressed (or already decompressed and passed as
 * `records`). Values are views into the buffer, not copies.
 */
export function decodeRecords(batch: Buffer, header = readBatchHeader(batch), records?: Buffer): DecodedRecord[] {
  if (records === undefined && compressionOf(header.attributes) !== Compression.None) {
    throw new RobustMQError('INVALID_ARGUMENT', 'decodeRecords needs the decompressed records of a compressed batch');
  }
  if (records === undefined && (header.size < BATCH_HEADER_SIZE || batch.length < header.size)) {
    throw new RobustMQError('CORRUPT_RECORD', `record batch at offset ${header.baseOffset} truncated`);
  }
  const body = records ?? batch.subarray(BATCH_HEADER_SIZE, header.size);
  const out: DecodedRecord[] = [];
  let pos = 0;
  const end = body.length;
  try {
    for (let i = 0; i < header.recordCount; i++) {
      const len = readVarint(body, pos, end);
      const recEnd = len.next + len.value;
      if (len.value < 0 || recEnd > end) throw new RangeError('record length out of bounds');
      pos = len.next + 1; // attributes (unused)
      const ts = readVarint(body, pos, recEnd);
      const od = readVarint(body, ts.next, recEnd);
      const key = readBytes(body, od.next, recEnd);
      const value = readBytes(body, key.next, recEnd);
      const hc = readVarint(body, value.next, recEnd);
      if (hc.value < 0 || hc.value > recEnd - hc.next) throw new RangeError('header count out of bounds');
      pos = hc.next;
      const headers: RecordHeader[] = [];
      for (let h = 0; h < hc.value; h++) {
        const hk = readBytes(body, pos, recEnd);
        const hv = readBytes(body, hk.next, recEnd);
        headers.push({ key: (hk.bytes ?? Buffer.alloc(0)).toString('utf8'), value: hv.bytes });
        pos = hv.next;
      }
      out.push({
        offset: header.baseOffset + od.value,
        timestamp: isLogAppendTime(header.attributes) ? header.maxTimestamp : header.baseTimestamp + ts.value,
        key: key.bytes,
        value: value.bytes,
        headers,
      });
      pos = recEnd;
    }
    // Kafka: "Incorrect declared batch size, records still remaining".
    if (pos !== end) throw new RangeError(`${end - pos} bytes follow the last declared record`);
  } catch (err) {
    throw new RobustMQError('CORRUPT_RECORD', `malformed record in batch at offset ${header.baseOffset}`, {
      cause: err,
    });
  }
  return out;
}

function readBytes(buf: Buffer, pos: number, end: number): { bytes: Buffer | null; next: number } {
  const len = readVarint(buf, pos, end);
  if (len.value < 0) return { bytes: null, next: len.next };
  if (len.next + len.value > end) throw new RangeError('bytes run past the record');
  return { bytes: buf.subarray(len.next, len.next + len.value), next: len.next + len.value };
}
