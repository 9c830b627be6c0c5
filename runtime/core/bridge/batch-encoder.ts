/**
 * RecordBatch v2 written straight from MQTT messages as they arrive: the same bytes `encodeRecordBatch(toRecord
 * (...))` gives (a unit test holds them equal), with the two headers every MQTT record has (`mqtt.qos`,
 * `mqtt.retain`) pre-encoded. Measured in bench/mqtt-binding.ts: the generic encoder (a RecordInput and a buffer
 * per header name per record) cost a third of QoS 0 throughput; keeping the message objects until their batch was
 * appended cost as much again in young-generation garbage collection, so a publish becomes bytes here at once.
 */
import { crc32c } from '@node-rs/crc32';
import { BATCH_HEADER_SIZE, BATCH_LOG_OVERHEAD } from '../../storage/record-batch.js';
import { varintSize, writeVarint } from '../../storage/varint.js';
import type { MqttMessage } from '../mqtt/message.js';
import { recordHeaders } from './mapping.js';
import type { BufferPool } from '../../buffer-pool.js';

const ATTRIBUTES_OFFSET = 21;
const CRC_OFFSET = 17;

/** The encoded header section (count, then name/value pairs) of a record's headers. */
function encodeHeaders(headers: ReturnType<typeof recordHeaders>): Buffer {
  let size = varintSize(headers.length);
  const names = headers.map((h) => Buffer.from(h.key));
  headers.forEach((h, i) => {
    size += varintSize(names[i].length) + names[i].length;
    size += h.value === null ? 1 : varintSize(h.value.length) + h.value.length;
  });
  const out = Buffer.allocUnsafe(size);
  let pos = writeVarint(out, 0, headers.length);
  headers.forEach((h, i) => {
    pos = writeVarint(out, pos, names[i].length);
    pos += names[i].copy(out, pos);
    if (h.value === null) pos = writeVarint(out, pos, -1);
    else {
      pos = writeVarint(out, pos, h.value.length);
      pos += h.value.copy(out, pos);
    }
  });
  return out;
}

/** Header sections of messages without properties, by QoS × 2 + RETAIN. */
const PLAIN: Buffer[] = [0, 1, 2].flatMap((qos) =>
  [false, true].map((retain) => encodeHeaders(recordHeaders({ qos, retain, properties: undefined } as MqttMessage))),
);

function headersOf(msg: MqttMessage): Buffer {
  return msg.properties === undefined ? PLAIN[(msg.qos << 1) | (msg.retain ? 1 : 0)] : encodeHeaders(recordHeaders(msg));
}

/** Bytes of the zigzag varint of `v`; lengths, counts and deltas here are small and not negative. */
function sizeOf(v: number): number {
  return v >= 0 && v < 64 ? 1 : v >= 0 && v < 8192 ? 2 : varintSize(v);
}

/** Writes the zigzag varint of `v` at `pos`; returns the position after it. */
function put(buf: Buffer, pos: number, v: number): number {
  if (v >= 0 && v < 64) {
    buf[pos] = v << 1;
    return pos + 1;
  }
  if (v >= 0 && v < 8192) {
    buf[pos] = ((v << 1) & 0x7f) | 0x80;
    buf[pos + 1] = v >> 6;
    return pos + 2;
  }
  return writeVarint(buf, pos, v);
}

/** One batch being filled record by record; `finish` writes the header and CRC. */
export class MqttBatchBuilder {
  private buf: Buffer;
  private pos = BATCH_HEADER_SIZE;
  count = 0;
  private baseTs = 0;
  private maxTs = 0;

  constructor(
    capacity: number,
    /** Largest batch allowed (bytes). */
    private readonly max: number,
    /** Where the buffer comes from (and, when it grows, where the smaller one goes back). */
    private readonly pool?: BufferPool,
  ) {
    const size = Math.min(Math.max(capacity, BATCH_HEADER_SIZE + 64), max);
    this.buf = pool ? pool.take(size) : Buffer.allocUnsafe(size);
  }

  get bytes(): number {
    return this.pos;
  }

  /**
   * Writes one record (key = MQTT topic name, value = payload, headers from QoS, RETAIN and properties). Returns
   * where the payload starts in the batch, or -1 when the record would make the batch larger than `max`.
   */
  add(msg: MqttMessage, key: Buffer, timestamp: number): number {
    if (this.count === 0) this.baseTs = this.maxTs = timestamp;
    else if (timestamp > this.maxTs) this.maxTs = timestamp;
    const headers = headersOf(msg);
    const payload = msg.payload;
    const len = payload.length;
    const delta = timestamp - this.baseTs;
    const count = this.count;
    const body = 1 + sizeOf(delta) + sizeOf(count) + sizeOf(key.length) + key.length + sizeOf(len) + len + headers.length;
    const need = this.pos + sizeOf(body) + body;
    if (need > this.buf.length && !this.grow(need)) return -1;
    const buf = this.buf;
    // TypedArray#set rather than Buffer#copy: a third of the cost for the small pieces a record is made of.
    let pos = put(buf, this.pos, body);
    buf[pos++] = 0;
    pos = put(buf, pos, delta);
    pos = put(buf, pos, count);
    pos = put(buf, pos, key.length);
    buf.set(key, pos);
    pos = put(buf, pos + key.length, len);
    const payloadAt = pos;
    buf.set(payload, pos);
    pos += len;
    buf.set(headers, pos);
    this.pos = pos + headers.length;
    this.count = count + 1;
    return payloadAt;
  }

  /** The finished batch (a view of exactly its bytes). */
  finish(): Buffer {
    const buf = this.buf;
    buf.writeBigInt64BE(0n, 0);
    buf.writeInt32BE(this.pos - BATCH_LOG_OVERHEAD, 8);
    buf.writeInt32BE(-1, 12);
    buf.writeInt8(2, 16);
    buf.writeInt16BE(0, ATTRIBUTES_OFFSET);
    buf.writeInt32BE(this.count - 1, 23);
    buf.writeBigInt64BE(BigInt(this.baseTs), 27);
    buf.writeBigInt64BE(BigInt(this.maxTs), 35);
    buf.writeBigInt64BE(-1n, 43);
    buf.writeInt16BE(-1, 51);
    buf.writeInt32BE(-1, 53);
    buf.writeInt32BE(this.count, 57);
    const batch = buf.subarray(0, this.pos);
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    return batch;
  }

  /** The whole buffer the batch lives in (payload views point into it). */
  get buffer(): Buffer {
    return this.buf;
  }

  private grow(need: number): boolean {
    if (need > this.max) return false;
    const size = Math.min(this.max, Math.max(need, this.buf.length * 2));
    const next = this.pool ? this.pool.take(size) : Buffer.allocUnsafe(size);
    next.set(this.buf.subarray(0, this.pos), 0);
    this.pool?.put(this.buf);
    this.buf = next;
    return true;
  }
}
