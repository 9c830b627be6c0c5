import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_HEADER_BYTES, scanFrames } from '../../runtime/meta/embedded/frame.js';

const payloads = fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 8 });

function scanAll(buf: Buffer) {
  const seen: Buffer[] = [];
  const result = scanFrames(buf, (p) => {
    seen.push(Buffer.from(p));
    return true;
  });
  return { ...result, seen };
}

describe('meta log frames', () => {
  it('lays out length, CRC32C over length and payload, then the payload', () => {
    const frame = encodeFrame(Buffer.from('{}'));
    expect(frame.length).toBe(FRAME_HEADER_BYTES + 2);
    expect(frame.readUInt32BE(0)).toBe(2);
    expect(frame.subarray(8).toString()).toBe('{}');
  });

  it('reads back every frame of a clean log', () => {
    fc.assert(
      fc.property(payloads, (ps) => {
        const { seen, stop, goodBytes, frames } = scanAll(Buffer.concat(ps.map((p) => encodeFrame(Buffer.from(p)))));
        expect(stop).toBe('end');
        expect(frames).toBe(ps.length);
        expect(goodBytes).toBe(ps.reduce((n, p) => n + FRAME_HEADER_BYTES + p.length, 0));
        expect(seen).toEqual(ps.map((p) => Buffer.from(p)));
      }),
    );
  });

  it('stops at a torn tail and keeps every complete frame before it', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), (ps, cut) => {
        const frames = ps.map((p) => encodeFrame(Buffer.from(p)));
        const full = Buffer.concat(frames);
        const at = cut % full.length;
        const { seen, stop, goodBytes } = scanAll(full.subarray(0, at));
        let complete = 0;
        let end = 0;
        while (complete < frames.length && end + frames[complete].length <= at) end += frames[complete++].length;
        expect(seen).toHaveLength(complete);
        expect(goodBytes).toBe(end);
        expect(stop).toBe(at === end ? 'end' : 'torn');
      }),
    );
  });

  it('detects any single flipped bit and keeps only the frames before it', () => {
    fc.assert(
      fc.property(payloads, fc.nat(), fc.integer({ min: 0, max: 7 }), (ps, pos, bit) => {
        const frames = ps.map((p) => encodeFrame(Buffer.from(p)));
        const buf = Buffer.concat(frames);
        const at = pos % buf.length;
        buf[at] ^= 1 << bit;
        let hit = 0;
        for (let end = frames[0].length; end <= at; end += frames[++hit].length);
        const { seen, stop } = scanAll(buf);
        expect(stop).not.toBe('end');
        expect(seen).toEqual(ps.slice(0, hit).map((p) => Buffer.from(p)));
      }),
    );
  });

  it('stops where the content callback rejects a frame', () => {
    const buf = Buffer.concat(['a', 'b', 'c'].map((s) => encodeFrame(Buffer.from(s))));
    const result = scanFrames(buf, (p) => p.toString() !== 'b');
    expect(result).toEqual({ goodBytes: FRAME_HEADER_BYTES + 1, frames: 1, stop: 'corrupt' });
  });
});
