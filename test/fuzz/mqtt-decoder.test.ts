/**
 * Fuzzing the MQTT packet decoders a connection runs on each framed packet: the direct PUBLISH/ack decoder
 * (fast-decode.ts) and mqtt-packet's parser behind it. For any packet of any protocol level they return a packet or
 * a typed error — MqttProtocolError from the fast path, an 'error' event from mqtt-packet, which the connection turns
 * into one — quickly, and what they return holds no more bytes than the packet had.
 */
import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { fastDecode, type TopicCache } from '../../protocols/mqtt/fast-decode.js';
import { Framer } from '../../protocols/mqtt/framer.js';
import { returnsOrTypedError } from './kafka-fuzz-support.js';
import { HANG_MS, hostilePacket, MQTT_FIXTURES, settings, TIMEOUT_MS } from './mqtt-fuzz-support.js';

const LIMIT = 4096;

/** Names the decoders fill in themselves rather than read from the packet. */
const CONSTANT_KEYS = new Set(['cmd', 'protocolId']);

/** Bytes held by a decoded value (Buffers and strings), to compare with the packet it came from. */
function bytesIn(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return value.length; // UTF-16 units: at most one per byte read, even for bad UTF-8
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + bytesIn(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  return Object.entries(value).reduce((n: number, [k, v]) => n + (CONSTANT_KEYS.has(k) ? 0 : bytesIn(v)), 0);
}

/** Frames `bytes` and decodes every packet the way MqttConnection does; returns what came out. */
function decodeAll(bytes: Buffer, version: 3 | 4 | 5): { packets: mqtt.Packet[]; errors: number } {
  const packets: mqtt.Packet[] = [];
  let errors = 0;
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', (p: mqtt.Packet) => packets.push(p));
  parser.on('error', (err: Error) => {
    expect(err).toBeInstanceOf(Error);
    errors++;
  });
  const cache: TopicCache = { bytes: undefined, topic: '' };
  const framer = new Framer(LIMIT, (frame, headerLength) => {
    const started = performance.now();
    let refused = false;
    const fast = returnsOrTypedError(() => {
      try {
        return fastDecode(frame, headerLength, version, cache);
      } catch (err) {
        refused = true;
        throw err;
      }
    }, ['INVALID_ARGUMENT']);
    if (refused) {
      errors++; // the connection closes with MALFORMED_PACKET
    } else if (fast !== undefined) {
      expect(bytesIn(fast)).toBeLessThanOrEqual(frame.length);
      packets.push(fast);
    } else {
      const before = packets.length;
      parser.parse(frame); // must not throw: the connection's guard around it is for libraries' bugs, not for this
      for (const p of packets.slice(before)) expect(bytesIn(p)).toBeLessThanOrEqual(frame.length);
    }
    expect(performance.now() - started).toBeLessThan(HANG_MS);
    return errors === 0;
  });
  framer.push(bytes);
  return { packets, errors };
}

describe('MQTT decoders under fuzzing', () => {
  it('decode every captured client packet (mqtt.js, mosquitto) to its packet type', () => {
    expect(MQTT_FIXTURES.length).toBeGreaterThanOrEqual(40);
    for (const f of MQTT_FIXTURES) {
      const parser = mqtt.parser({ protocolVersion: f.version });
      const got: mqtt.Packet[] = [];
      parser.on('packet', (p: mqtt.Packet) => got.push(p));
      parser.on('error', (err: Error) => expect.fail(`${f.name}: ${err.message}`));
      parser.parse(f.packet);
      expect(got.map((p) => p.cmd), f.name).toEqual([f.cmd]);
    }
  });

  for (const version of [3, 4, 5] as const) {
    it(`return a packet or a typed error for hostile packets of protocol level ${version}`, () => {
      fc.assert(
        fc.property(fc.array(hostilePacket(version), { minLength: 1, maxLength: 4 }), (parts) => {
          decodeAll(Buffer.concat(parts), version);
        }),
        settings(200 + version),
      );
    }, TIMEOUT_MS);
  }
});
