import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  FrameScanner,
  PUBLISH,
  connectPacket,
  fixedHeaderAt,
  publishIdOffset,
  publishPacket,
  publishPacketId,
  pubackPacket,
  repeatPacket,
} from '../../bench/lib/mqtt-wire.js';

function parseAll(buf: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (err) => {
    throw err;
  });
  parser.parse(buf);
  return out;
}

describe('bench MQTT wire helpers', () => {
  it('builds packets mqtt-packet parses back', () => {
    const [connect] = parseAll(connectPacket('c1'));
    expect(connect).toMatchObject({ cmd: 'connect', clientId: 'c1', clean: true, keepalive: 0 });
    const [puback] = parseAll(pubackPacket(513));
    expect(puback).toMatchObject({ cmd: 'puback', messageId: 513 });
  });

  it('re-stamps QoS 1 packet ids at the computed offset', () => {
    const packet = publishPacket('bench/q1/0', Buffer.alloc(64), 1, 1);
    packet.writeUInt16BE(40_000, publishIdOffset(packet));
    const [parsed] = parseAll(packet);
    expect(parsed).toMatchObject({ cmd: 'publish', qos: 1, messageId: 40_000, topic: 'bench/q1/0' });
  });

  it('decodes multi-byte remaining lengths and reports incomplete headers', () => {
    const big = publishPacket('t', Buffer.alloc(20_000), 0);
    expect(fixedHeaderAt(big, 0)).toMatchObject({ type: PUBLISH, remaining: 20_003, headerLength: 4 });
    expect(fixedHeaderAt(big.subarray(0, 2), 0)).toBeNull();
  });

  it('finds every packet whatever the chunk boundaries, with QoS 1 ids', () => {
    const qos1 = publishPacket('bench/x', Buffer.alloc(64, 1), 1, 7);
    const stream = Buffer.concat([repeatPacket(publishPacket('bench/y', Buffer.alloc(64), 0), 5), qos1, pubackPacket(9)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const seen: Array<[number, number | null]> = [];
      const scanner = new FrameScanner((type, flags, buf, body) => {
        seen.push([type, type === PUBLISH && (flags & 0x06) !== 0 ? publishPacketId(buf, body) : null]);
      });
      for (let i = 0; i < stream.length; i += size) scanner.push(stream.subarray(i, i + size));
      expect(seen).toEqual([...Array(5).fill([PUBLISH, null]), [PUBLISH, 7], [4, null]]);
    }
  });

  it('rejects a remaining length longer than four bytes', () => {
    const scanner = new FrameScanner(() => undefined);
    expect(() => scanner.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/malformed remaining length/);
  });
});
