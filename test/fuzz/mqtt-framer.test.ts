/**
 * Fuzzing the MQTT framer (protocols/mqtt/framer.ts): whatever the byte stream and however it is cut into reads,
 * it hands on consecutive, exactly sized packets of at most the Maximum Packet Size, reports a bad or too large
 * Remaining Length as one typed problem (never a throw) as soon as the length is read, and never holds more than
 * one packet's worth of bytes — a client claiming 256 MB makes it allocate nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer, type FrameProblem } from '../../protocols/mqtt/framer.js';
import { chunked, hostilePacket, MQTT_FIXTURES, settings, TIMEOUT_MS, varint } from './mqtt-fuzz-support.js';

const LIMIT = 2048;

/** The bytes a framer holds between reads (internal state, read for the bound). */
const held = (framer: Framer): number => (framer as unknown as { pendingBytes: number }).pendingBytes;

/** The Remaining Length a frame's fixed header states, and the header's size. */
function declared(frame: Buffer): { length: number; header: number } {
  let length = 0;
  let mul = 1;
  let i = 1;
  for (;;) {
    length += (frame[i] & 0x7f) * mul;
    mul *= 128;
    if ((frame[i++] & 0x80) === 0) return { length, header: i };
  }
}

const stream = fc
  .array(fc.oneof(hostilePacket(4), hostilePacket(5), fc.constantFrom(...MQTT_FIXTURES.map((f) => f.packet))), { maxLength: 10 })
  .chain((parts) => {
    const all = Buffer.concat(parts);
    return chunked(all).map((chunks) => ({ all, chunks }));
  });

describe('MQTT framer under fuzzing', () => {
  it('yields consecutive exactly sized packets within the limit, or one problem, and buffers less than one packet', () => {
    fc.assert(
      fc.property(stream, ({ all, chunks }) => {
        const frames: Buffer[] = [];
        const framer = new Framer(LIMIT, (frame, headerLength) => {
          const d = declared(frame);
          expect(d.header).toBe(headerLength);
          expect(frame.length).toBe(d.header + d.length);
          expect(frame.length).toBeLessThanOrEqual(LIMIT);
          frames.push(Buffer.from(frame));
          return true;
        });
        let problem: FrameProblem | undefined;
        for (const chunk of chunks) {
          problem = framer.push(chunk);
          if (problem) break; // the connection closes: nothing more is read
          expect(held(framer)).toBeLessThan(LIMIT);
        }
        const framed = Buffer.concat(frames);
        expect(framed.equals(all.subarray(0, framed.length))).toBe(true);
        if (problem?.kind === 'too-large') expect(problem.size).toBeGreaterThan(LIMIT);
      }),
      settings(100),
    );
  }, TIMEOUT_MS);

  it('refuses a 256 MB claim from its length prefix alone, whatever follows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), fc.integer({ min: LIMIT, max: 268_435_455 }), fc.uint8Array({ maxLength: 64 }), (type, claim, rest) => {
        const sink = (): boolean => {
          throw new Error('no packet may be delivered');
        };
        const framer = new Framer(LIMIT, sink);
        const problem = framer.push(Buffer.concat([Buffer.from([type << 4]), varint(claim), Buffer.from(rest)]));
        expect(problem).toEqual({ kind: 'too-large', size: 1 + varint(claim).length + claim });
        expect(held(framer)).toBe(0);
      }),
      settings(101),
    );
  }, TIMEOUT_MS);

  it('refuses a Remaining Length of more than four bytes [MQTT-1.5.5-1] and the reserved packet type 0', () => {
    expect(new Framer(LIMIT, () => true).push(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toEqual({ kind: 'bad-length' });
    expect(new Framer(LIMIT, () => true).push(Buffer.from([0x00, 0x00]))).toEqual({ kind: 'bad-type' });
  });
});
