import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createMessage, type QoS } from '../../runtime/core/mqtt/message.js';
import { ack } from '../../protocols/mqtt/acks.js';
import { encodePublish } from '../../protocols/mqtt/encode.js';
import { fastDecode, type TopicCache } from '../../protocols/mqtt/fast-decode.js';
import { Framer } from '../../protocols/mqtt/framer.js';

function parseAll(bytes: Buffer, protocolVersion: number): mqtt.Packet[] {
  const parser = mqtt.parser({ protocolVersion });
  const out: mqtt.Packet[] = [];
  parser.on('packet', (p: mqtt.Packet) => out.push(p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  parser.parse(bytes);
  return out;
}

describe('encodePublish', () => {
  it('produces what mqtt-packet parses back, for every version, QoS, retain and dup', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter((t) => !/[+#\u0000]/.test(t)),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(3, 4, 5),
        fc.constantFrom<QoS>(0, 1, 2),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 65535 }),
        (topic, payload, version, qos, retain, dup, id) => {
          const msg = createMessage(topic, Buffer.from(payload), 2, retain);
          encodePublish(msg, version, 0, retain, 0, false, undefined); // warm the cache first
          const [p] = parseAll(encodePublish(msg, version, qos, retain, id, dup, undefined), version) as mqtt.IPublishPacket[];
          expect(p.topic).toBe(topic);
          expect(Buffer.compare(p.payload as Buffer, Buffer.from(payload))).toBe(0);
          expect(p.qos).toBe(qos);
          expect(p.retain).toBe(retain);
          expect(p.dup).toBe(dup && qos > 0); // DUP is 0 on QoS 0 [MQTT-3.3.1-2]
          if (qos > 0) expect(p.messageId).toBe(id);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes a QoS 0 message once and shares the buffer between subscribers', () => {
    const msg = createMessage('t', Buffer.from('x'), 0, false);
    expect(encodePublish(msg, 4, 0, false, 0, false, undefined)).toBe(encodePublish(msg, 3, 0, false, 0, false, undefined));
    expect(encodePublish(msg, 5, 0, false, 0, false, undefined)).not.toBe(encodePublish(msg, 4, 0, false, 0, false, undefined));
  });

  it('carries v5 properties, subscription identifiers and the remaining expiry', () => {
    const msg = createMessage('t', Buffer.from('x'), 1, false, {
      properties: { contentType: 'text/plain', userProperties: { k: 'v' }, correlationData: Buffer.from('c') },
      expiresAt: Date.now() + 30_000,
    });
    const [p] = parseAll(encodePublish(msg, 5, 1, false, 9, false, [3, 4]), 5) as mqtt.IPublishPacket[];
    expect(p.properties?.contentType).toBe('text/plain');
    expect(p.properties?.userProperties).toEqual({ k: 'v' });
    expect(p.properties?.correlationData?.toString()).toBe('c');
    expect(p.properties?.subscriptionIdentifier).toEqual([3, 4]);
    expect(p.properties?.messageExpiryInterval).toBeGreaterThan(28);
    expect(p.properties?.messageExpiryInterval).toBeLessThanOrEqual(30);
  });
});

describe('acks', () => {
  it('builds the four-byte success form and v5 reason codes', () => {
    expect([...ack('puback', 0x1234, 4)]).toEqual([0x40, 2, 0x12, 0x34]);
    expect([...ack('pubrel', 1, 5)]).toEqual([0x62, 2, 0, 1]);
    const [p] = parseAll(ack('puback', 7, 5, 0x87, 'no'), 5) as mqtt.IPubackPacket[];
    expect(p.reasonCode).toBe(0x87);
    expect(p.properties?.reasonString).toBe('no');
  });
});

describe('Framer', () => {
  const frames = (chunks: Buffer[], max = 1 << 20) => {
    const out: Buffer[] = [];
    const f = new Framer(max, (frame) => {
      out.push(Buffer.from(frame));
      return true;
    });
    const problems = chunks.map((c) => f.push(c)).filter(Boolean);
    return { out, problems };
  };

  it('splits a stream into packets whatever the chunking', () => {
    const packets = [
      mqtt.generate({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(300, 1), qos: 0, retain: false, dup: false }),
      mqtt.generate({ cmd: 'pingreq' }),
      mqtt.generate({ cmd: 'puback', messageId: 5 }),
    ];
    const all = Buffer.concat(packets);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: all.length }), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          if (p > prev) chunks.push(all.subarray(prev, p));
          prev = p;
        }
        const { out, problems } = frames(chunks);
        expect(problems).toEqual([]);
        expect(out.map((b) => b.toString('hex'))).toEqual(packets.map((b) => b.toString('hex')));
      }),
    );
  });

  it('refuses a packet above the maximum size from its header alone', () => {
    const header = Buffer.from([0x30, 0xff, 0xff, 0x7f]); // remaining length 2 MiB - 1, no body sent
    expect(frames([header], 1024).problems).toEqual([{ kind: 'too-large', size: 4 + 2_097_151 }]);
  });

  it('reports the reserved packet type 0 at once', () => {
    expect(frames([Buffer.from([0x00, 0x00])]).problems).toEqual([{ kind: 'bad-type' }]);
  });

  it('reports a remaining length longer than four bytes [MQTT-1.5.5-1]', () => {
    expect(frames([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]).problems).toEqual([{ kind: 'bad-length' }]);
  });
});

describe('fastDecode', () => {
  const cache = (): TopicCache => ({ bytes: undefined, topic: '' });

  it('decodes plain publishes like mqtt-packet and reuses the topic string', () => {
    const c = cache();
    for (const version of [4, 5]) {
      const bytes = mqtt.generate(
        { cmd: 'publish', topic: 'x/ü', payload: Buffer.from('hi'), qos: 1, messageId: 77, retain: true, dup: true },
        { protocolVersion: version },
      );
      const p = fastDecode(bytes, 2, version, c) as mqtt.IPublishPacket;
      const [ref] = parseAll(bytes, version) as mqtt.IPublishPacket[];
      expect({ ...p, length: undefined, properties: undefined }).toMatchObject({
        cmd: 'publish', topic: ref.topic, qos: ref.qos, retain: ref.retain, dup: ref.dup, messageId: ref.messageId,
      });
      expect(p.payload.toString()).toBe('hi');
    }
    const a = fastDecode(mqtt.generate({ cmd: 'publish', topic: 'same', payload: 'a', qos: 0, retain: false, dup: false }), 2, 4, c) as mqtt.IPublishPacket;
    const b = fastDecode(mqtt.generate({ cmd: 'publish', topic: 'same', payload: 'b', qos: 0, retain: false, dup: false }), 2, 4, c) as mqtt.IPublishPacket;
    expect(a.topic).toBe(b.topic);
  });

  it('leaves v5 publishes with properties and odd acks to mqtt-packet', () => {
    const withProps = mqtt.generate(
      { cmd: 'publish', topic: 't', payload: 'x', qos: 0, retain: false, dup: false, properties: { contentType: 'a' } },
      { protocolVersion: 5 },
    );
    expect(fastDecode(withProps, 2, 5, cache())).toBeUndefined();
    expect(fastDecode(Buffer.from([0x41, 2, 0, 1]), 2, 4, cache())).toBeUndefined(); // reserved flag set
    expect(fastDecode(Buffer.from([0x40, 2, 0, 1]), 2, 4, cache())).toMatchObject({ cmd: 'puback', messageId: 1 });
  });

  it('rejects a topic that is not well-formed UTF-8 [MQTT-1.5.4-1]', () => {
    const bad = Buffer.from([0x30, 5, 0, 2, 0xc0, 0xaf, 0x78]); // overlong encoding of "/"
    expect(() => fastDecode(bad, 2, 4, cache())).toThrow(/UTF-8/);
  });
});
