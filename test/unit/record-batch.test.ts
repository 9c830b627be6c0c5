import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_SIZE,
  Compression,
  batchHeaders,
  compressionOf,
  decodeRecords,
  encodeRecordBatch,
  isControl,
  isLogAppendTime,
  isTransactional,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateBatches,
  type RecordInput,
} from '../../runtime/storage/record-batch.js';
import { gzipBatch, textBatch } from '../helpers/batches.js';

const require = createRequire(import.meta.url);
type KafkaJsEncoder = { buffer: Buffer };
// kafkajs's producer-side encoders (internal modules): the bytes kafkajs puts in a Produce request.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (opts: Record<string, unknown>) => Promise<KafkaJsEncoder>;
};
const KafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: Record<string, unknown>) => KafkaJsEncoder;
const kafkaJsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
  records: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[];
}>;
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;

const T0 = 1_700_000_000_000;
const corrupt = (message: RegExp) => expect.objectContaining({ code: 'CORRUPT_RECORD', message: expect.stringMatching(message) });

/** Recomputes the CRC32C after a test edits bytes it covers. */
function recrc(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17);
  return buf;
}

function sample(): RecordInput[] {
  return [
    { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: T0 },
    { key: null, value: Buffer.from('v2'), timestamp: T0 + 5 },
    { key: Buffer.from('k3'), value: null, headers: [{ key: 'ü', value: null }, { key: 'h', value: Buffer.alloc(0) }], timestamp: T0 - 3 },
    { key: Buffer.alloc(0), value: Buffer.alloc(0) },
  ];
}

async function kafkaJsBatch(compression: number): Promise<Buffer> {
  const records = [
    KafkaJsRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: Buffer.from('x') } }),
    KafkaJsRecord({ offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('v2') }),
    KafkaJsRecord({ offsetDelta: 2, timestampDelta: 3, key: Buffer.from('k3'), value: null }),
  ];
  const batch = await RecordBatch({ compression, records, firstTimestamp: T0, maxTimestamp: T0 + 5, lastOffsetDelta: 2 });
  return batch.buffer;
}

describe('RecordBatch v2', () => {
  it('round-trips records with keys, null keys and values, headers and per-record timestamps', () => {
    const batch = encodeRecordBatch(sample(), { baseOffset: 40, producerId: 9, producerEpoch: 2, baseSequence: 11, partitionLeaderEpoch: 4 });
    const [h] = validateBatches(batch);
    expect(h).toMatchObject({
      position: 0, size: batch.length, baseOffset: 40, partitionLeaderEpoch: 4, magic: 2, attributes: 0, lastOffsetDelta: 3,
      baseTimestamp: T0, maxTimestamp: T0 + 5, producerId: 9, producerEpoch: 2, baseSequence: 11, recordCount: 4,
    });
    const out = decodeRecords(batch);
    expect(out.map((r) => r.offset)).toEqual([40, 41, 42, 43]);
    expect(out.map((r) => r.timestamp)).toEqual([T0, T0 + 5, T0 - 3, T0]);
    expect(out.map((r) => r.key?.toString() ?? null)).toEqual(['k1', null, 'k3', '']);
    expect(out.map((r) => r.value?.toString() ?? null)).toEqual(['v1', 'v2', null, '']);
    expect(out[0].headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);
    expect(out[2].headers).toEqual([{ key: 'ü', value: null }, { key: 'h', value: Buffer.alloc(0) }]);
    expect(out[1].headers).toEqual([]);
  });

  it('round-trips arbitrary records (property)', () => {
    const bytes = fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { nil: null });
    const record = fc.record({
      key: bytes,
      value: bytes,
      headers: fc.array(fc.record({ key: fc.string(), value: bytes }), { maxLength: 3 }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 ** 40 }), (records, base) => {
        const batch = encodeRecordBatch(records, { baseOffset: base });
        expect(validateBatches(batch)).toHaveLength(1);
        const out = decodeRecords(batch);
        expect(out.map((r) => r.offset)).toEqual(records.map((_, i) => base + i));
        expect(out.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }))).toEqual(records);
      }),
      { numRuns: 200 },
    );
  });

  it('validates concatenated batches and iterates their headers', () => {
    const a = textBatch(['a', 'b']);
    const b = textBatch(['c']);
    const both = Buffer.concat([a, b]);
    expect(validateBatches(both).map((h) => [h.position, h.size, h.recordCount])).toEqual([[0, a.length, 2], [a.length, b.length, 1]]);
    expect([...batchHeaders(both)].map((h) => h.position)).toEqual([0, a.length]);
    expect([...batchHeaders(both.subarray(0, both.length - 1))].map((h) => h.position)).toEqual([0]);
  });

  it('keeps the CRC valid when the base offset and leader epoch are rewritten', () => {
    const batch = textBatch(['a', 'b']);
    setBaseOffset(batch, 0, 2 ** 40);
    setPartitionLeaderEpoch(batch, 0, 17);
    const [h] = validateBatches(batch);
    expect([h.baseOffset, h.partitionLeaderEpoch]).toEqual([2 ** 40, 17]);
    expect(decodeRecords(batch).map((r) => r.offset)).toEqual([2 ** 40, 2 ** 40 + 1]);
  });

  it('detects a CRC mismatch anywhere the CRC covers', () => {
    for (const pos of [21, 30, 57, BATCH_HEADER_SIZE + 3, -1]) {
      const batch = textBatch(['payload'], { timestamp: T0 });
      batch[pos < 0 ? batch.length + pos : pos] ^= 0x40; // attributes, timestamp, count, record body, last byte
      expect(() => validateBatches(batch)).toThrow(corrupt(/CRC32C mismatch/));
    }
    const crcItself = textBatch(['payload']);
    crcItself[17] ^= 0x01;
    expect(() => validateBatches(crcItself)).toThrow(corrupt(/CRC32C mismatch/));
  });

  it('rejects empty, truncated and undersized input', () => {
    const batch = textBatch(['a', 'b']);
    expect(() => validateBatches(Buffer.alloc(0))).toThrow(corrupt(/empty/));
    expect(() => validateBatches(batch.subarray(0, batch.length - 1))).toThrow(corrupt(/truncated/));
    expect(() => validateBatches(batch.subarray(0, 40))).toThrow(corrupt(/not a whole record batch/));
    expect(() => validateBatches(Buffer.concat([batch, batch.subarray(0, 10)]))).toThrow(corrupt(/not a whole record batch/));
    const small = Buffer.from(batch);
    small.writeInt32BE(20, 8);
    expect(() => validateBatches(small)).toThrow(corrupt(/too small/));
    expect(() => readBatchHeader(batch.subarray(0, 60))).toThrow(corrupt(/truncated/));
  });

  it('rejects other magic bytes, also for old message sets shorter than a v2 header', () => {
    const batch = textBatch(['a']);
    batch.writeInt8(1, 16);
    expect(() => validateBatches(batch)).toThrow(corrupt(/magic 1/));
    const legacy = Buffer.alloc(34); // a magic 0 message: offset, size, crc, magic 0 ...
    legacy.writeInt32BE(22, 8);
    expect(() => validateBatches(legacy)).toThrow(corrupt(/magic 0/));
  });

  it('rejects record counts inconsistent with the last offset delta, and unknown codecs', () => {
    const edit = (f: (b: Buffer) => void) => {
      const b = textBatch(['a', 'b', 'c']);
      f(b);
      return recrc(b);
    };
    expect(() => validateBatches(edit((b) => b.writeInt32BE(5, 57)))).toThrow(corrupt(/record count 5/));
    expect(() => validateBatches(edit((b) => b.writeInt32BE(0, 57)))).toThrow(corrupt(/record count 0/));
    expect(() => validateBatches(edit((b) => b.writeInt32BE(-1, 57)))).toThrow(corrupt(/record count -1/));
    expect(() => validateBatches(edit((b) => b.writeInt32BE(7, 23)))).toThrow(corrupt(/last offset delta 7/));
    expect(() => validateBatches(edit((b) => b.writeInt16BE(6, 21)))).toThrow(corrupt(/compression codec 6/));
  });

  it('enforces the largest batch size', () => {
    const batch = textBatch(['x'.repeat(1000)]);
    expect(() => validateBatches(batch, batch.length - 1)).toThrow(expect.objectContaining({ code: 'RECORD_TOO_LARGE' }));
    expect(validateBatches(batch, batch.length)).toHaveLength(1);
  });

  it('refuses malformed records when decoding', () => {
    const twoRecords = textBatch(['a', 'b']);
    const fewer = Buffer.from(twoRecords);
    fewer.writeInt32BE(1, 57); // declares one record but two follow
    expect(() => decodeRecords(fewer)).toThrow(corrupt(/malformed record/));
    const more = Buffer.from(twoRecords);
    more.writeInt32BE(3, 57);
    expect(() => decodeRecords(more)).toThrow(corrupt(/malformed record/));
    const longRecord = Buffer.from(twoRecords);
    longRecord[BATCH_HEADER_SIZE] = 0x7e; // first record claims 63 bytes
    expect(() => decodeRecords(longRecord)).toThrow(corrupt(/malformed record/));
    expect(() => decodeRecords(twoRecords.subarray(0, twoRecords.length - 2))).toThrow(corrupt(/truncated/));
  });

  it('uses the batch maxTimestamp for LogAppendTime batches and reads the attribute bits', () => {
    const batch = textBatch(['a', 'b'], { timestamps: [T0, T0 + 9] });
    batch.writeInt16BE(0x08 | 0x10 | 0x20, 21);
    const h = readBatchHeader(batch);
    expect([isLogAppendTime(h.attributes), isTransactional(h.attributes), isControl(h.attributes)]).toEqual([true, true, true]);
    expect(compressionOf(h.attributes)).toBe(Compression.None);
    expect(decodeRecords(batch).map((r) => r.timestamp)).toEqual([T0 + 9, T0 + 9]);
  });

  it('needs the decompressed records to decode a compressed batch', () => {
    const plain = encodeRecordBatch(sample());
    const gz = gzipBatch(plain);
    const [h] = validateBatches(gz);
    expect(compressionOf(h.attributes)).toBe(Compression.Gzip);
    expect(() => decodeRecords(gz)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const inflated = gunzipSync(gz.subarray(BATCH_HEADER_SIZE));
    expect(decodeRecords(gz, h, inflated)).toEqual(decodeRecords(plain));
  });

  it('refuses to build an empty batch', () => {
    expect(() => encodeRecordBatch([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('RecordBatch v2 against kafkajs', () => {
  it('accepts an uncompressed batch built by kafkajs and agrees on its CRC and bytes', async () => {
    const theirs = await kafkaJsBatch(0);
    const [h] = validateBatches(theirs);
    expect(h.crc).toBe(crc32c(theirs.subarray(21)));
    expect(decodeRecords(theirs).map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      [0, T0, 'k1', 'v1'],
      [1, T0 + 5, null, 'v2'],
      [2, T0 + 3, 'k3', null],
    ]);
    const ours = encodeRecordBatch(
      [
        { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: T0 },
        { key: null, value: Buffer.from('v2'), timestamp: T0 + 5 },
        { key: Buffer.from('k3'), value: null, timestamp: T0 + 3 },
      ],
      { partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 },
    );
    expect(readBatchHeader(ours).crc).toBe(h.crc);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('accepts a gzip batch built by kafkajs without decompressing it', async () => {
    const theirs = await kafkaJsBatch(1);
    const [h] = validateBatches(theirs);
    expect([compressionOf(h.attributes), h.recordCount, h.lastOffsetDelta]).toEqual([Compression.Gzip, 3, 2]);
    const inflated = gunzipSync(theirs.subarray(BATCH_HEADER_SIZE));
    expect(decodeRecords(theirs, h, inflated).map((r) => r.value?.toString() ?? null)).toEqual(['v1', 'v2', null]);
  });

  it('produces batches kafkajs decodes', async () => {
    const batch = encodeRecordBatch(sample(), { baseOffset: 100 });
    const { records } = await kafkaJsDecodeBatch(new KafkaJsDecoder(batch));
    expect(records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      ['100', String(T0), 'k1', 'v1'],
      ['101', String(T0 + 5), null, 'v2'],
      ['102', String(T0 - 3), 'k3', null],
      ['103', String(T0), '', ''],
    ]);
    expect(records[0].headers).toEqual({ h: Buffer.from('x') });
  });
});
