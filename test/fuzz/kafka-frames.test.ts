/**
 * Fuzzing the Kafka frame splitter and request header reader: whatever the byte stream and however it is cut into
 * chunks, the splitter returns exactly-sized frames of at most the limit, reports a bad size as one typed event
 * (never a throw), and never holds more than one frame's worth of bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../protocols/kafka/codec/frame.js';
import { readRequestHeader } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { FIXTURES, mutationOf, returnsOrTypedError, settings, TIMEOUT_MS } from './kafka-fuzz-support.js';

const LIMIT = 4096;

const sized = (body: Buffer): Buffer => {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
};

/** A stream of frames, some with a lying size prefix, cut into random chunks. */
const stream = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => sized(Buffer.from(b))),
      mutationOf(FIXTURES.map((f) => f.frame)).map(sized),
      fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((n) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(n);
        return b;
      }),
    ),
    { maxLength: 12 },
  )
  .chain((parts) => {
    const all = Buffer.concat(parts);
    return fc.array(fc.integer({ min: 0, max: all.length }), { maxLength: 20 }).map((cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), all.length];
      return points.slice(1).map((end, i) => all.subarray(points[i], end));
    });
  });

describe('Kafka frame splitter under fuzzing', () => {
  it('yields frames within the limit or one error, and buffers at most one frame', () => {
    fc.assert(
      fc.property(stream, (chunks) => {
        const splitter = new FrameSplitter(LIMIT);
        let failed = false;
        for (const chunk of chunks) {
          const events = splitter.push(chunk);
          for (const e of events) {
            expect(failed).toBe(false);
            if ('error' in e) failed = true;
            else expect(e.frame.length).toBeLessThanOrEqual(LIMIT);
          }
          expect(splitter.pending).toBeLessThanOrEqual(LIMIT + 4 + chunk.length);
          if (!failed) expect(splitter.pending).toBeLessThan(LIMIT + 4);
        }
      }),
      settings(10),
    );
  }, TIMEOUT_MS);

  it('reads request headers from any frame or fails with a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), mutationOf(FIXTURES.map((f) => f.frame))), (frame) => {
        const header = returnsOrTypedError(() => readRequestHeader(new Reader(frame)), ['INVALID_ARGUMENT']);
        if (header?.clientId) expect(header.clientId.length).toBeLessThanOrEqual(frame.length);
      }),
      settings(11),
    );
  }, TIMEOUT_MS);
});
