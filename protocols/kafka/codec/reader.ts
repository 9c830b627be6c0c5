/**
 * Bounds-checked reads of Kafka protocol primitives (both the classic and the "flexible" KIP-482 encodings).
 * Pure: a Reader walks one Buffer. Every read that would run past the end, and every length that claims more than
 * the bytes left, throws a MalformedRequest error — nothing is ever allocated from a claimed size.
 */
import { RobustMQError } from '../../../runtime/errors.js';

export function malformed(message: string): RobustMQError {
  return new RobustMQError('INVALID_ARGUMENT', `malformed Kafka message: ${message}`);
}

export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end: number = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.end) throw malformed(`${what} runs past the end (${this.remaining} bytes left)`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'));
  }
  bool(): boolean {
    return this.buf[this.need(1, 'boolean')] !== 0;
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4, 'uint32'));
  }
  /** int64 as a JavaScript number (exact up to 2^53; offsets and timestamps never get near). */
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.need(8, 'int64')));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'));
  }

  /** Unsigned varint (protobuf style), at most 5 bytes: the flexible-version lengths and tags. */
  uvarint(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.buf[this.need(1, 'varint')];
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) throw malformed('unsigned varint out of range');
        return value;
      }
    }
    throw malformed('unsigned varint longer than 5 bytes');
  }

  /** Zig-zag signed varint (32-bit). */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** A view (no copy) of the next `n` bytes. */
  slice(n: number, what = 'bytes'): Buffer {
    const at = this.need(n, what);
    return this.buf.subarray(at, at + n);
  }

  skip(n: number): void {
    this.need(n, 'skipped field');
  }

  /** Length of a string/bytes field: int16/int32 classic, uvarint-1 compact. -1 means null. */
  private length(compact: boolean, wide: boolean): number {
    if (compact) return this.uvarint() - 1;
    return wide ? this.int32() : this.int16();
  }

  string(compact: boolean): string | null {
    const n = this.length(compact, false);
    if (n < -1) throw malformed(`negative string length ${n}`);
    return n === -1 ? null : this.slice(n, 'string').toString('utf8');
  }

  bytes(compact: boolean): Buffer | null {
    const n = this.length(compact, true);
    if (n < -1) throw malformed(`negative bytes length ${n}`);
    return n === -1 ? null : this.slice(n, 'bytes');
  }

  /** UUID as 32 lowercase hex digits. */
  uuid(): string {
    return this.slice(16, 'uuid').toString('hex');
  }

  /**
   * Element count of an array; -1 means null. A count that could not fit in the bytes left (each element takes at
   * least `minElementSize` bytes) is rejected before anything is allocated for it.
   */
  arrayLength(compact: boolean, minElementSize = 1): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) throw malformed(`negative array length ${n}`);
    if (n > 0 && n * minElementSize > this.remaining) {
      throw malformed(`array claims ${n} elements but only ${this.remaining} bytes are left`);
    }
    return n;
  }
}
