/**
 * Buffers to fill again, by size. Every Buffer's bytes live outside the JavaScript heap, and V8 answers a stream of
 * new ones (100 MB/s of bound QoS 0 traffic) with full garbage collections. Measured in bench/mqtt-binding.ts:
 * reusing the MQTT bridge's batch buffers took QoS 0 from 0.83M to 1.02M publishes/s, and reusing the memory
 * engine's slabs halved full collections. Only buffers nothing refers to any more may be put back.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private bytes = 0;
  /** The fewest bytes held since the last trim: that much was not needed meanwhile. */
  private spare = 0;
  /** Buffers `take` allocated, and took from the pool instead. */
  allocated = 0;
  reused = 0;

  constructor(
    /** Bytes kept at most. */
    private readonly maxBytes: number,
  ) {}

  take(size: number): Buffer {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf === undefined) {
      this.allocated++;
      return Buffer.allocUnsafe(size);
    }
    this.reused++;
    this.bytes -= size;
    if (this.bytes < this.spare) this.spare = this.bytes;
    return buf;
  }

  put(buf: Buffer): void {
    if (this.bytes + buf.length > this.maxBytes) return;
    let list = this.free.get(buf.length);
    if (list === undefined) this.free.set(buf.length, (list = []));
    list.push(buf);
    this.bytes += buf.length;
  }

  /** Lets go of what went unused since the last call (run it now and then: an idle broker holds nothing). */
  trim(): void {
    let drop = this.spare;
    for (const list of this.free.values()) {
      while (drop > 0 && list.length > 0) {
        const buf = list.shift()!;
        drop -= buf.length;
        this.bytes -= buf.length;
      }
    }
    this.spare = this.bytes;
  }

  /** Bytes held for reuse. */
  get held(): number {
    return this.bytes;
  }
}
