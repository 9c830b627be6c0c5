/** The bridge reads compressed Kafka batches: gzip, Snappy (raw and xerial-framed), LZ4 frames; bombs are refused. */
import { gzipSync } from 'node:zlib';
import { crc32c } from '@node-rs/crc32';
import * as lz4 from 'lz4js';
import * as snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { recordsOf } from '../../runtime/core/bridge/decompress.js';
import { isRobustMQError } from '../../runtime/errors.js';
import {
  BATCH_HEADER_SIZE,
  BATCH_LOG_OVERHEAD,
  Compression,
  decodeRecords,
  encodeRecordBatch,
  readBatchHeader,
  validateBatches,
} from '../../runtime/storage/record-batch.js';

/** Re-packs an uncompressed batch with `codec` and the records section `compress` makes. */
function pack(batch: Buffer, codec: Compression, compress: (records: Buffer) => Uint8Array): Buffer {
  const body = Buffer.from(compress(batch.subarray(BATCH_HEADER_SIZE)));
  const out = Buffer.concat([batch.subarray(0, BATCH_HEADER_SIZE), body]);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt16BE((out.readInt16BE(21) & ~0x07) | codec, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  validateBatches(out);
  return out;
}

/** snappy-java's stream framing: magic, version, compatible version, then [length][raw block] chunks. */
function xerial(records: Buffer): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts = [header];
  for (let at = 0; at < records.length; at += 100) {
    const block = Buffer.from(snappy.compress(records.subarray(at, at + 100)));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

const plain = encodeRecordBatch(
  Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`k/${i}`), value: Buffer.from(`value ${i} ${'z'.repeat(50)}`) })),
);
const expected = decodeRecords(plain).map((r) => r.value?.toString());

describe('recordsOf', () => {
  const codecs: Array<[string, Compression, (b: Buffer) => Uint8Array]> = [
    ['gzip', Compression.Gzip, (b) => gzipSync(b)],
    ['snappy (raw)', Compression.Snappy, (b) => snappy.compress(b)],
    ['snappy (xerial framing)', Compression.Snappy, xerial],
    ['lz4 frame', Compression.Lz4, (b) => lz4.compress(b)],
  ];
  for (const [name, codec, compress] of codecs) {
    it(`decompresses ${name}`, async () => {
      const batch = pack(plain, codec, compress);
      const header = readBatchHeader(batch);
      const records = await recordsOf(batch, header);
      expect(decodeRecords(batch, header, records).map((r) => r.value?.toString())).toEqual(expected);
    });
  }

  it('passes an uncompressed batch through', async () => {
    const header = readBatchHeader(plain);
    expect((await recordsOf(plain, header)).equals(plain.subarray(BATCH_HEADER_SIZE))).toBe(true);
  });

  it('refuses to inflate past its limit (RECORD_TOO_LARGE) and reports garbage as CORRUPT_RECORD', async () => {
    const big = encodeRecordBatch([{ key: null, value: Buffer.alloc(200_000) }]);
    for (const [codec, compress] of [
      [Compression.Gzip, (b: Buffer) => gzipSync(b)],
      [Compression.Lz4, (b: Buffer) => lz4.compress(b)],
      [Compression.Snappy, (b: Buffer) => snappy.compress(b)],
    ] as const) {
      const batch = pack(big, codec, compress);
      expect(batch.length).toBeLessThan(20_000);
      const err = await recordsOf(batch, readBatchHeader(batch), 100_000).catch((e: unknown) => e);
      expect(isRobustMQError(err, 'RECORD_TOO_LARGE'), `codec ${codec}: ${String(err)}`).toBe(true);
    }
    const garbage = pack(plain, Compression.Zstd, () => Buffer.from('definitely not zstd'));
    await expect(recordsOf(garbage, readBatchHeader(garbage))).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
  });
});
