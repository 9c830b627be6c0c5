/**
 * Zig-zag varints as used inside Kafka records (protobuf style; Kafka's varint and varlong share the encoding).
 * Values are JavaScript safe integers (|v| <= 2^53 - 1); every such value round-trips exactly. Reading a varlong
 * whose value lies outside that range is a RangeError rather than a silently rounded number.
 */

/** Above this magnitude the zig-zag image (2|v| or 2|v|-1) is no longer exact in a double. */
const EXACT_ZIGZAG_LIMIT = 2 ** 52;

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function assertSafe(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint value ${value} is not a safe integer`);
}

export function varintSize(value: number): number {
  if ((value | 0) === value) {
    let v = ((value << 1) ^ (value >> 31)) >>> 0;
    let n = 1;
    while (v >= 0x80) {
      v >>>= 7;
      n++;
    }
    return n;
  }
  assertSafe(value);
  let v = bigZigzag(value);
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** Writes a zig-zag varint at `pos`, returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  if ((value | 0) === value) {
    // int32 fast path: protobuf's zigzag32 with unsigned shifts.
    let v = ((value << 1) ^ (value >> 31)) >>> 0;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  assertSafe(value);
  if (Math.abs(value) <= EXACT_ZIGZAG_LIMIT) {
    let v = zigzag(value);
    while (v >= 0x80) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[pos++] = v;
    return pos;
  }
  let v = bigZigzag(value);
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

function bigZigzag(value: number): bigint {
  const b = BigInt(value);
  return b >= 0n ? b << 1n : (-b << 1n) - 1n;
}

export interface VarintRead {
  value: number;
  next: number;
}

/**
 * Reads a zig-zag varint; throws RangeError when it runs past `end`, is longer than 10 bytes or decodes to a value
 * outside the safe-integer range.
 */
export function readVarint(buf: Buffer, pos: number, end: number = buf.length): VarintRead {
  let raw = 0;
  let mul = 1;
  // Seven groups are 49 bits: exact in a double, so the common case needs no BigInt.
  for (let i = 0; i < 7; i++) {
    if (pos >= end) throw new RangeError('varint runs past the end of the buffer');
    const b = buf[pos++];
    raw += (b & 0x7f) * mul;
    if (b < 0x80) return { value: raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, next: pos };
    mul *= 128;
  }
  return readLongTail(buf, pos, end, raw);
}

function readLongTail(buf: Buffer, pos: number, end: number, low: number): VarintRead {
  let raw = BigInt(low);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    if (pos >= end) throw new RangeError('varint runs past the end of the buffer');
    const b = buf[pos++];
    raw |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      const value = Number((raw >> 1n) ^ -(raw & 1n));
      if (!Number.isSafeInteger(value)) throw new RangeError('varint value exceeds 53 bits');
      return { value, next: pos };
    }
    shift += 7n;
  }
  throw new RangeError('varint longer than 10 bytes');
}
