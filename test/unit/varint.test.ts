import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readVarint, varintSize, writeVarint } from '../../runtime/storage/varint.js';

const require = createRequire(import.meta.url);
// kafkajs's own encoder/decoder (internal modules): an independent implementation to agree with.
interface KafkaJsLong {
  value: bigint;
}
const KafkaJsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(v: number): unknown;
  writeVarLong(v: number | bigint): unknown;
  buffer: Buffer;
};
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => {
  readVarLong(): KafkaJsLong;
};

function encode(value: number): Buffer {
  const buf = Buffer.alloc(10);
  const end = writeVarint(buf, 0, value);
  return buf.subarray(0, end);
}

const MAX = Number.MAX_SAFE_INTEGER;
const BOUNDARIES = [
  0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 48,
  -(2 ** 48) - 1, 2 ** 52 - 1, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, -(2 ** 52) - 1, 2 ** 53 - 2, MAX, -MAX,
  1_700_000_000_000, -1_700_000_000_000,
];

describe('varint', () => {
  it('encodes known values as Kafka does (zig-zag, 7 bits a byte, low group first)', () => {
    expect(encode(0).toString('hex')).toBe('00');
    expect(encode(-1).toString('hex')).toBe('01');
    expect(encode(1).toString('hex')).toBe('02');
    expect(encode(-64).toString('hex')).toBe('7f');
    expect(encode(64).toString('hex')).toBe('8001');
    expect(encode(300).toString('hex')).toBe('d804');
    expect(encode(2 ** 31 - 1).toString('hex')).toBe('feffffff0f');
    expect(encode(-(2 ** 31)).toString('hex')).toBe('ffffffff0f');
    expect(encode(MAX).toString('hex')).toBe('feffffffffffff1f');
    expect(encode(-MAX).toString('hex')).toBe('fdffffffffffff1f');
  });

  it('round-trips boundary values exactly, with varintSize matching the bytes written', () => {
    for (const v of BOUNDARIES) {
      const bytes = encode(v);
      expect(varintSize(v), `size of ${v}`).toBe(bytes.length);
      expect(readVarint(bytes, 0), `value ${v}`).toEqual({ value: v, next: bytes.length });
    }
  });

  it('agrees with kafkajs for every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const ours = encode(v);
        const theirs = (new KafkaJsEncoder().writeVarLong(v) as { buffer: Buffer }).buffer;
        expect(ours.equals(theirs)).toBe(true);
        expect(new KafkaJsDecoder(ours).readVarLong().value).toBe(BigInt(v));
        expect(readVarint(theirs, 0).value).toBe(v);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer(), (v) => {
        expect(encode(v).equals((new KafkaJsEncoder().writeVarInt(v) as { buffer: Buffer }).buffer)).toBe(true);
      }),
    );
  });

  it('reads from a position and stops at the given end', () => {
    const buf = Buffer.from([0xaa, 0xd8, 0x04, 0x02]);
    expect(readVarint(buf, 1)).toEqual({ value: 300, next: 3 });
    expect(readVarint(buf, 3)).toEqual({ value: 1, next: 4 });
    expect(() => readVarint(buf, 1, 2)).toThrow(RangeError);
  });

  it('rejects truncated, over-long and out-of-range varints', () => {
    expect(() => readVarint(Buffer.from([0x80]), 0)).toThrow(/past the end/);
    expect(() => readVarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0)).toThrow(/past the end/);
    expect(() => readVarint(Buffer.alloc(11, 0x80), 0)).toThrow(/longer than 10 bytes/);
    const int64Max = (new KafkaJsEncoder().writeVarLong(2n ** 63n - 1n) as { buffer: Buffer }).buffer;
    expect(int64Max.length).toBe(10);
    expect(() => readVarint(int64Max, 0)).toThrow(/exceeds 53 bits/);
    const twoTo53 = (new KafkaJsEncoder().writeVarLong(2n ** 53n) as { buffer: Buffer }).buffer;
    expect(() => readVarint(twoTo53, 0)).toThrow(/exceeds 53 bits/);
  });

  it('refuses to write values that are not safe integers', () => {
    for (const bad of [1.5, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => writeVarint(Buffer.alloc(10), 0, bad)).toThrow(RangeError);
      expect(() => varintSize(bad)).toThrow(RangeError);
    }
  });
});
