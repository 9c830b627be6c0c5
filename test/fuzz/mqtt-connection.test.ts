/**
 * Fuzzing a whole MQTT connection (framer, decoders, dispatcher, handlers) over an in-memory transport: before or
 * after a valid CONNECT of any protocol level, hostile packets cut into random reads either get answered or close
 * that connection with a protocol error — never an unexpected exception (logged at error level) and never a
 * throw into the event loop — and the broker goes on serving well-behaved clients.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerContext } from '../../runtime/context.js';
import { ClientRegistry } from '../../runtime/core/clients.js';
import type { TopicManager } from '../../runtime/core/topics.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { Metrics } from '../../runtime/metrics.js';
import { MqttBroker } from '../../protocols/mqtt/broker.js';
import { createMemoryPair } from '../../protocols/mqtt/memory-transport.js';
import { tempDir, testConfig } from '../helpers/node.js';
import { waitFor } from '../helpers/mqtt.js';
import { chunked, hostilePacket, MQTT_FIXTURES, settings, TIMEOUT_MS } from './mqtt-fuzz-support.js';

let dir: string;
let meta: EmbeddedMetaStore;
let broker: MqttBroker;
const levels: number[] = [];
const errorLines: string[] = [];

beforeAll(async () => {
  dir = await tempDir('robustmq-mqtt-fuzz-');
  meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const level = (JSON.parse(line) as { level: number }).level;
        levels.push(level);
        if (level >= 50) errorLines.push(line);
      }
      done();
    },
  });
  const ctx: BrokerContext = {
    config: testConfig(dir, { mqttSysIntervalMs: 0, mqttMaxPacketSize: 4096 }),
    log: pino({ level: 'info' }, sink),
    meta,
    topics: undefined as unknown as TopicManager,
    metrics: new Metrics(),
    clients: new ClientRegistry(),
  };
  broker = new MqttBroker(ctx);
  await broker.start();
});

afterAll(async () => {
  await broker?.close();
  await meta?.close();
  await rm(dir, { recursive: true, force: true });
});

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const CONNECTS = MQTT_FIXTURES.filter((f) => f.cmd === 'connect');
const PINGREQ = Buffer.from([0xc0, 0x00]);

/** A valid CONNECT (or none), then hostile packets, then a PINGREQ, all cut into random reads. */
const session = fc.constantFrom(...CONNECTS).chain((connect) =>
  fc
    .tuple(fc.boolean(), fc.array(hostilePacket(connect.version), { minLength: 1, maxLength: 4 }))
    .chain(([connectFirst, hostile]) => chunked(Buffer.concat([...(connectFirst ? [connect.packet] : []), ...hostile, PINGREQ])))
    .map((chunks) => ({ version: connect.version, chunks })),
);

describe('MQTT connection under fuzzing', () => {
  it('answers or closes on hostile input, never failing unexpectedly, and keeps serving', async () => {
    let closed = 0;
    await fc.assert(
      fc.asyncProperty(session, async ({ chunks }) => {
        errorLines.length = 0;
        const [serverEnd, clientEnd] = createMemoryPair();
        let gone = false;
        clientEnd.start({ onData: () => undefined, onDrain: () => undefined, onClose: () => (gone = true) });
        broker.accept(serverEnd);
        for (const chunk of chunks) clientEnd.write(chunk);
        await turns(3);
        if (gone) closed++;
        clientEnd.destroy();
        await turns(1);
        expect(errorLines).toEqual([]);
      }),
      settings(300),
    );
    expect(closed).toBeGreaterThan(0); // the hostile input did reach the protocol checks
    await waitFor(() => broker.connections.size === 0, 2000, 'fuzzed connections to be gone');

    // A well-behaved client is still served.
    const [serverEnd, clientEnd] = createMemoryPair();
    const got: mqtt.Packet[] = [];
    const parser = mqtt.parser({ protocolVersion: 5 });
    parser.on('packet', (p: mqtt.Packet) => got.push(p));
    clientEnd.start({ onData: (d) => parser.parse(d), onDrain: () => undefined, onClose: () => undefined });
    broker.accept(serverEnd);
    clientEnd.write(mqtt.generate({ cmd: 'connect', clientId: 'after-fuzz', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 0 }, { protocolVersion: 5 }));
    await waitFor(() => got.some((p) => p.cmd === 'connack'), 2000, 'CONNACK');
    expect((got.find((p) => p.cmd === 'connack') as mqtt.IConnackPacket).reasonCode).toBe(0);
    clientEnd.destroy();
  }, TIMEOUT_MS);
});
