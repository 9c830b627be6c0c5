/**
 * A RecordBatch v2 written straight from MQTT messages: the same bytes `encodeRecordBatch(toRecord(...))` gives
 * (a unit test holds them equal), without a RecordInput and header objects per message and with the two headers
 * every MQTT record has (`mqtt.qos`, `mqtt.retain`) pre-encoded. The generic encoder allocated a buffer per header
 * name per record, which made a binding cost about two thirds of QoS 0 publish throughput in bench/mqtt-binding.ts.
 */
import { crc32c } from '@node-rs/crc32';
import { BATCH_HEADER_SIZE, BATCH_LOG_OVERHEAD } from '../../storage/record-batch.js';
import { varintSize, writeVarint } from '../../storage/varint.js';
import type { MqttMessage } from '../mqtt/message.js';
import { recordHeaders } from './mapping.js';

const ATTRIBUTES_OFFSET = 21;

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

/** Bytes a message adds to a batch at most (for sizing batches before encoding them). */
export function recordBytesOf(msg: MqttMessage, key: Buffer): number {
  return 40 + key.length + msg.payload.length + (msg.properties === undefined ? PLAIN[5].length : headersOf(msg).length);
}

/** One uncompressed batch of the messages in [from, to), CreateTime timestamps, no producer id. */
export function encodeMqttBatch(messages: MqttMessage[], keys: Buffer[], timestamps: number[], from: number, to: number): Buffer {
  const count = to - from;
  const base = timestamps[from];
  let maxTs = base;
  const headers: Buffer[] = new Array(count);
  const bodies: number[] = new Array(count);
  let total = BATCH_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const msg = messages[from + i];
    const key = keys[from + i];
    const ts = timestamps[from + i];
    if (ts > maxTs) maxTs = ts;
    const h = headersOf(msg);
    headers[i] = h;
    const len = msg.payload.length;
    const body = 1 + varintSize(ts - base) + varintSize(i) + varintSize(key.length) + key.length + varintSize(len) + len + h.length;
    bodies[i] = body;
    total += varintSize(body) + body;
  }
  const buf = Buffer.allocUnsafe(total);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(total - BATCH_LOG_OVERHEAD, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(0, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(count - 1, 23);
  buf.writeBigInt64BE(BigInt(base), 27);
  buf.writeBigInt64BE(BigInt(maxTs), 35);
  buf.writeBigInt64BE(-1n, 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(count, 57);
  let pos = BATCH_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const msg = messages[from + i];
    const key = keys[from + i];
    pos = writeVarint(buf, pos, bodies[i]);
    buf[pos++] = 0;
    pos = writeVarint(buf, pos, timestamps[from + i] - base);
    pos = writeVarint(buf, pos, i);
    pos = writeVarint(buf, pos, key.length);
    pos += key.copy(buf, pos);
    pos = writeVarint(buf, pos, msg.payload.length);
    pos += msg.payload.copy(buf, pos);
    pos += headers[i].copy(buf, pos);
  }
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), 17);
  return buf;
}
