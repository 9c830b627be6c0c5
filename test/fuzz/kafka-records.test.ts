/**
 * Fuzzing RecordBatch v2 validation and record decoding, which run on every Produce: random bytes and mutations of
 * batches (with and without a fixed-up CRC, so mutations get past the checksum) are accepted or refused with
 * CORRUPT_RECORD / RECORD_TOO_LARGE, never another exception, and decoded values are views of the batch.
 */
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecordBatch, validateBatches } from '../../runtime/storage/record-batch.js';
import { measure, returnsOrTypedError, settings, TIMEOUT_MS } from './kafka-fuzz-support.js';

const CODES = ['CORRUPT_RECORD', 'RECORD_TOO_LARGE', 'INVALID_ARGUMENT'];
const ATTRIBUTES_OFFSET = 21;
const CRC_OFFSET = 17;

const batch = fc
  .array(
    fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b))),
      value: fc.option(fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b))),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((records) => encodeRecordBatch(records.map((r) => ({ key: r.key ?? null, value: r.value ?? null }))));

const mutated = fc
  .tuple(batch, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.nat())
  .map(([b, flips, fixCrc, cut]) => {
    const out = Buffer.from(b);
    for (const [at, value] of flips) out[at % out.length] = value;
    if (fixCrc && out.length > ATTRIBUTES_OFFSET) out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    return cut % 3 === 0 ? out.subarray(0, out.length - (cut % 40)) : out;
  });

describe('record batches under fuzzing', () => {
  it('validate and decode random bytes and mutated batches, or refuse them with a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), (bytes) => {
        const headers = returnsOrTypedError(() => validateBatches(bytes, 1 << 20), CODES);
        for (const h of headers ?? []) {
          const one = bytes.subarray(h.position, h.position + h.size);
          const records = returnsOrTypedError(() => decodeRecords(one, { ...h, position: 0 }), CODES);
          if (records) expect(measure(records, bytes)).toBeLessThanOrEqual(64 * (one.length + 1));
        }
      }),
      settings(20),
    );
  }, TIMEOUT_MS);
});
