/**
 * Fuzzing the Kafka request decoders (every API and version in the table): random bodies and mutations of frames
 * captured from kafkajs and kcat either decode or fail with the codec's typed error (INVALID_ARGUMENT), quickly,
 * and a decoded request holds only views of the frame and a number of values proportional to its size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KAFKA_APIS } from '../../protocols/kafka/apis/index.js';
import { isFlexible, type AnyKafkaApi } from '../../protocols/kafka/apis/types.js';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { readRequestHeader, skipHeaderTags } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';
import { FIXTURES, measure, mutationOf, returnsOrTypedError, settings, TIMEOUT_MS } from './kafka-fuzz-support.js';

const TYPED = ['INVALID_ARGUMENT'];
/** Values per byte a decoded message may hold: each struct element costs a byte at least and holds few fields. */
const VALUES_PER_BYTE = 64;

const versions = KAFKA_APIS.flatMap((api) =>
  Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, i) => ({ api, version: api.minVersion + i })),
);

function decodeBody(api: AnyKafkaApi, version: number, body: Buffer): unknown {
  const flexible = isFlexible(api, version);
  return returnsOrTypedError(() => decode(api.request, new Reader(body), version, flexible), TYPED);
}

/** Decodes a whole request frame (header and body) as the connection does. */
function decodeFrame(frame: Buffer): unknown {
  return returnsOrTypedError(() => {
    const r = new Reader(frame);
    const header = readRequestHeader(r);
    const api = KAFKA_APIS.find((a) => a.apiKey === header.apiKey);
    if (!api || header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) return header;
    const flexible = isFlexible(api, header.apiVersion);
    if (flexible) skipHeaderTags(r);
    return decode(api.request, r, header.apiVersion, flexible);
  }, TYPED);
}

describe('Kafka request decoders under fuzzing', () => {
  it(`covers ${versions.length} API versions`, () => {
    expect(versions.length).toBeGreaterThan(100);
  });

  it('decode random bodies for every API version, or fail with a typed error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...versions), fc.uint8Array({ maxLength: 512 }), ({ api, version }, bytes) => {
        const body = Buffer.from(bytes);
        const value = decodeBody(api, version, body);
        if (value !== undefined) expect(measure(value, body)).toBeLessThanOrEqual(VALUES_PER_BYTE * (body.length + 1));
      }),
      settings(1),
    );
  }, TIMEOUT_MS);

  it('decode mutations of frames captured from real clients, or fail with a typed error', () => {
    fc.assert(
      fc.property(mutationOf(FIXTURES.map((f) => f.frame)), (frame) => {
        const value = decodeFrame(frame);
        if (value !== undefined) expect(measure(value, frame)).toBeLessThanOrEqual(VALUES_PER_BYTE * (frame.length + 1));
      }),
      settings(2),
    );
  }, TIMEOUT_MS);

  it('decode what the schema encodes from defaults, for every API version (the fuzzers start from decodable input)', () => {
    for (const { api, version } of versions) {
      const flexible = isFlexible(api, version);
      const w = new Writer();
      encode(api.request, w, {}, version, flexible);
      const bytes = w.toBuffer();
      expect(() => decode(api.request, new Reader(bytes), version, flexible)).not.toThrow();
    }
  });

  it('reject claimed array and byte lengths beyond the frame before allocating anything for them', () => {
    fc.assert(
      fc.property(fc.constantFrom(...versions), fc.integer({ min: 1, max: 0x7fffffff }), ({ api, version }, claim) => {
        const body = Buffer.alloc(64);
        for (let at = 0; at + 4 <= body.length; at += 4) body.writeInt32BE(claim, at);
        const value = decodeBody(api, version, body);
        if (value !== undefined) expect(measure(value, body)).toBeLessThanOrEqual(VALUES_PER_BYTE * (body.length + 1));
      }),
      settings(3),
    );
  }, TIMEOUT_MS);
});
