/**
 * Splits the incoming byte stream into whole MQTT packets by their fixed header [MQTT-2.1]. A packet larger than
 * the Maximum Packet Size is refused as soon as its Remaining Length is known, before its bytes are buffered, and a
 * Remaining Length longer than four bytes is malformed [MQTT-1.5.5-1]. Frames are views into the received chunk
 * when they fit in it; a frame split across chunks is assembled with one copy. Pure: no sockets, no clocks.
 */

export type FrameProblem = { kind: 'too-large'; size: number } | { kind: 'bad-length' } | { kind: 'bad-type' };

/** Receives one whole packet; `headerLength` is the size of its fixed header. Returns false to stop splitting. */
export type FrameSink = (frame: Buffer, headerLength: number) => boolean;

export class Framer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Size of the frame being assembled across chunks, once its header was read; 0 = unknown yet. */
  private need = 0;

  constructor(
    private readonly maxPacketSize: number,
    private readonly sink: FrameSink,
  ) {}

  push(chunk: Buffer): FrameProblem | undefined {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.need > 0 && this.pendingBytes < this.need) return undefined;
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.need = 0;
    }
    const n = buf.length;
    let pos = 0;
    while (pos < n) {
      if (buf[pos] < 0x10) return { kind: 'bad-type' }; // packet type 0 is reserved [MQTT-2.1.2]
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      for (let k = 0; k < 4 && i < n; k++) {
        const b = buf[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
        if (k === 3) return { kind: 'bad-length' };
      }
      if (!complete) break;
      const size = i - pos + len;
      if (size > this.maxPacketSize) return { kind: 'too-large', size };
      if (pos + size > n) {
        this.need = size;
        break;
      }
      const more = this.sink(buf.subarray(pos, pos + size), i - pos);
      pos += size;
      if (!more) return undefined;
    }
    if (pos < n) {
      this.pending.push(buf.subarray(pos));
      this.pendingBytes = n - pos;
    }
    return undefined;
  }
}
