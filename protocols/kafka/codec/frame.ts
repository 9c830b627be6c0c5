/**
 * Splits a byte stream into Kafka frames (int32 size + body). A size that is negative or above the limit is
 * reported before a single byte of the claimed body is buffered, so a hostile length cannot make us allocate it.
 */
export type FrameEvent = { frame: Buffer } | { error: string };

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns the complete frames (exactly-sized copies) and at most one terminal error. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: FrameEvent[] = [];
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes) {
        this.failed = true;
        this.chunks = [];
        this.buffered = 0;
        out.push({ error: `frame size ${size} outside 0..${this.maxFrameBytes}` });
        break;
      }
      if (this.buffered < 4 + size) break;
      out.push({ frame: this.take(4 + size).subarray(4) });
    }
    return out;
  }

  private peekSize(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  /** Removes `n` bytes from the front into one new buffer. */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const first = this.chunks[0];
      const used = Math.min(first.length, n - filled);
      first.copy(out, filled, 0, used);
      filled += used;
      if (used === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(used);
    }
    this.buffered -= n;
    return out;
  }
}
