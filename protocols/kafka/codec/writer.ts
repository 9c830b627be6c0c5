/**
 * Growable writer of Kafka protocol primitives. Output is a list of chunks, so large payloads (Fetch record sets)
 * are referenced, not copied: `raw()` appends a buffer as its own chunk. Scratch space only grows forward, so
 * earlier chunk views stay valid.
 */
const SCRATCH = 8192;

export class Writer {
  private readonly chunks: Buffer[] = [];
  private buf: Buffer;
  private start = 0;
  private pos = 0;
  private flushed = 0;

  constructor(initial = SCRATCH) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + (this.pos - this.start);
  }

  /**
   * Reserves `n` bytes and returns where they start. It may replace `this.buf`, so callers must call it before
   * reading `this.buf` (`this.buf[this.room(1)] = x` would write into the old buffer).
   */
  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      this.flush();
      this.buf = Buffer.allocUnsafe(Math.max(SCRATCH, n));
      this.start = 0;
      this.pos = 0;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private flush(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.buf.subarray(this.start, this.pos));
      this.flushed += this.pos - this.start;
      this.start = this.pos;
    }
  }

  int8(v: number): this {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
    return this;
  }
  bool(v: boolean): this {
    const at = this.room(1);
    this.buf[at] = v ? 1 : 0;
    return this;
  }
  int16(v: number): this {
    const at = this.room(2);
    this.buf.writeInt16BE(v, at);
    return this;
  }
  uint16(v: number): this {
    const at = this.room(2);
    this.buf.writeUInt16BE(v, at);
    return this;
  }
  int32(v: number): this {
    const at = this.room(4);
    this.buf.writeInt32BE(v, at);
    return this;
  }
  uint32(v: number): this {
    const at = this.room(4);
    this.buf.writeUInt32BE(v, at);
    return this;
  }
  int64(v: number | bigint): this {
    const at = this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), at);
    return this;
  }
  float64(v: number): this {
    const at = this.room(8);
    this.buf.writeDoubleBE(v, at);
    return this;
  }

  uvarint(v: number): this {
    let rest = v >>> 0;
    while (rest >= 0x80) {
      const at = this.room(1);
      this.buf[at] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    const at = this.room(1);
    this.buf[at] = rest;
    return this;
  }

  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  string(v: string | null, compact: boolean): this {
    if (v === null) return compact ? this.uvarint(0) : this.int16(-1);
    const n = Buffer.byteLength(v);
    if (compact) this.uvarint(n + 1);
    else this.int16(n);
    const at = this.room(n);
    this.buf.write(v, at, n, 'utf8');
    return this;
  }

  bytes(v: Buffer | null, compact: boolean): this {
    if (v === null) return compact ? this.uvarint(0) : this.int32(-1);
    if (compact) this.uvarint(v.length + 1);
    else this.int32(v.length);
    return this.raw(v);
  }

  /** Length prefix of `chunks` followed by the chunks themselves, uncopied (record sets). */
  chunked(chunks: readonly Buffer[], compact: boolean): this {
    const n = chunks.reduce((sum, c) => sum + c.length, 0);
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
    for (const c of chunks) this.raw(c);
    return this;
  }

  uuid(hex: string): this {
    const at = this.room(16);
    this.buf.fill(0, at, at + 16);
    this.buf.write(hex.padStart(32, '0').slice(-32), at, 16, 'hex');
    return this;
  }

  arrayLength(n: number | null, compact: boolean): this {
    if (n === null) return compact ? this.uvarint(0) : this.int32(-1);
    return compact ? this.uvarint(n + 1) : this.int32(n);
  }

  /** Appends a buffer; small ones are copied into scratch, large ones kept as their own chunk. */
  raw(b: Buffer): this {
    if (b.length <= 256) {
      const at = this.room(b.length);
      b.copy(this.buf, at);
      return this;
    }
    this.flush();
    this.chunks.push(b);
    this.flushed += b.length;
    return this;
  }

  /** The chunks written; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }
}
