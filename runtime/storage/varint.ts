/** Zig-zag varints as used inside Kafka records (protobuf style). Values fit in 53 bits. */

export function varintSize(value: number): number {
  let v = zigzag(value);
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Writes a zig-zag varint at `pos`, returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = zigzag(value);
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

export interface VarintRead {
  value: number;
  next: number;
}

/** Reads a zig-zag varint; throws RangeError when it runs past `end` or is longer than 10 bytes. */
export function readVarint(buf: Buffer, pos: number, end: number = buf.length): VarintRead {
  let raw = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new RangeError('varint runs past the end of the buffer');
    const b = buf[pos++];
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      return { value, next: pos };
    }
    mul *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}
