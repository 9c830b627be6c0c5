/** Splitting a Kafka byte stream into frames, and refusing hostile sizes before buffering them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../protocols/kafka/codec/frame.js';

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('FrameSplitter', () => {
  it('returns the same frames however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 20 })), (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b))));
        const splitter = new FrameSplitter(1000);
        const out: Buffer[] = [];
        let pos = 0;
        for (let i = 0; pos < stream.length; i++) {
          const n = cuts.length ? cuts[i % cuts.length] : stream.length;
          for (const e of splitter.push(stream.subarray(pos, pos + n))) if ('frame' in e) out.push(e.frame);
          pos += n;
        }
        expect(out.map((b) => b.toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
        expect(splitter.pending).toBe(0);
      }),
    );
  });

  it('copies frames out of the chunk, so reusing the chunk does not change them', () => {
    const splitter = new FrameSplitter(100);
    const chunk = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two'))]);
    const events = splitter.push(chunk);
    chunk.fill(0);
    expect(events).toEqual([{ frame: Buffer.from('one') }, { frame: Buffer.from('two') }]);
  });

  it('reports a negative size at once and ignores everything after it', () => {
    const splitter = new FrameSplitter(100);
    expect(splitter.push(Buffer.from('ffffffff00', 'hex'))).toEqual([{ error: 'frame size -1 outside 0..100' }]);
    expect(splitter.push(frame(Buffer.from('x')))).toEqual([]);
  });

  it('reports an oversized frame from its 4-byte prefix alone, without waiting for (or buffering) the body', () => {
    const splitter = new FrameSplitter(1024);
    const events = splitter.push(Buffer.from('7fffffff', 'hex'));
    expect(events).toEqual([{ error: 'frame size 2147483647 outside 0..1024' }]);
    expect(splitter.pending).toBe(0);
  });

  it('holds a truncated frame until the rest arrives', () => {
    const splitter = new FrameSplitter(100);
    const whole = frame(Buffer.from('hello'));
    expect(splitter.push(whole.subarray(0, 6))).toEqual([]);
    expect(splitter.pending).toBe(6);
    expect(splitter.push(whole.subarray(6))).toEqual([{ frame: Buffer.from('hello') }]);
  });
});
