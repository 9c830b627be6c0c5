/**
 * MQTT 3.1.1 bytes for the load generator. Packets that are sent once (CONNECT, SUBSCRIBE) come from mqtt-packet;
 * the hot path (counting PUBLISHes, answering with PUBACKs, re-stamping packet ids) only walks fixed headers,
 * because a full parse per message would make the generator, not the broker, the limit.
 */
import mqttPacket from 'mqtt-packet';

export const PUBLISH = 3;
export const PUBACK = 4;
export const CONNACK = 2;
export const SUBACK = 9;

export function connectPacket(clientId: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId,
    clean: true,
    keepalive: 0,
  });
}

export function subscribePacket(messageId: number, topic: string, qos: 0 | 1): Buffer {
  return mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
}

export function publishPacket(topic: string, payload: Buffer, qos: 0 | 1, messageId = 1): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { messageId } : {}),
  });
}

export function pubackPacket(messageId: number): Buffer {
  return Buffer.from([PUBACK << 4, 2, messageId >> 8, messageId & 0xff]);
}

/** Where the packet id of a QoS>0 PUBLISH sits: after the fixed header and the topic (v3.1.1, no properties). */
export function publishIdOffset(packet: Buffer): number {
  const { headerLength } = fixedHeaderAt(packet, 0) ?? { headerLength: 0 };
  if (headerLength === 0) throw new Error('incomplete packet');
  return headerLength + 2 + packet.readUInt16BE(headerLength);
}

/** Fixed header at `offset`: packet type, flags, remaining length and header size; null when not all there yet. */
export function fixedHeaderAt(
  buf: Buffer,
  offset: number,
): { type: number; flags: number; remaining: number; headerLength: number } | null {
  if (offset + 2 > buf.length) return null;
  const first = buf[offset];
  let remaining = 0;
  let multiplier = 1;
  let i = offset + 1;
  for (let n = 0; n < 4; n++) {
    if (i >= buf.length) return null;
    const byte = buf[i++];
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { type: first >> 4, flags: first & 0x0f, remaining, headerLength: i - offset };
    multiplier *= 128;
  }
  throw new Error('malformed remaining length');
}

/** Called per whole packet: `body` .. `end` are the bytes after the fixed header. */
export type FrameVisitor = (type: number, flags: number, buf: Buffer, body: number, end: number) => void;

/** Splits a byte stream into packets, carrying a partial packet over to the next chunk. */
export class FrameScanner {
  private carry: Buffer | null = null;

  constructor(private readonly visit: FrameVisitor) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const length = buf.length;
    let offset = 0;
    // The fixed header is decoded inline (no object per packet): this loop runs millions of times a second.
    while (offset + 2 <= length) {
      let remaining = 0;
      let multiplier = 1;
      let i = offset + 1;
      let complete = false;
      for (let n = 0; n < 4 && i < length; n++) {
        const byte = buf[i++];
        remaining += (byte & 0x7f) * multiplier;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        multiplier *= 128;
        if (n === 3) throw new Error('malformed remaining length');
      }
      if (!complete) break;
      const end = i + remaining;
      if (end > length) break;
      const first = buf[offset];
      this.visit(first >> 4, first & 0x0f, buf, i, end);
      offset = end;
    }
    if (offset < length) this.carry = Buffer.from(buf.subarray(offset));
  }
}

/** Packet id of a PUBLISH whose QoS (flags bits 1-2) is above 0. */
export function publishPacketId(buf: Buffer, body: number): number {
  const topicLength = buf.readUInt16BE(body);
  return buf.readUInt16BE(body + 2 + topicLength);
}

/** `count` copies of a packet back to back, so one socket write carries many messages. */
export function repeatPacket(packet: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(packet.length * count);
  for (let i = 0; i < count; i++) packet.copy(out, i * packet.length);
  return out;
}
