/** The connection state machine over an in-memory duplex pair: no sockets involved. */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import mqtt from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerContext } from '../../runtime/context.js';
import { ClientRegistry } from '../../runtime/core/clients.js';
import type { TopicManager } from '../../runtime/core/topics.js';
import { createLogger } from '../../runtime/logger.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { Metrics } from '../../runtime/metrics.js';
import { MqttBroker } from '../../protocols/mqtt/broker.js';
import { createMemoryPair, type MemoryTransport } from '../../protocols/mqtt/memory-transport.js';
import { tempDir, testConfig } from '../helpers/node.js';
import { waitFor } from '../helpers/mqtt.js';

let dir: string;
let broker: MqttBroker;
let meta: EmbeddedMetaStore;

beforeEach(async () => {
  dir = await tempDir('robustmq-mqtt-unit-');
  meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
  const ctx: BrokerContext = {
    config: testConfig(dir, { mqttSysIntervalMs: 0 }),
    log: createLogger('silent', { pretty: false }),
    meta,
    topics: undefined as unknown as TopicManager, // the MQTT front-end does not use topics yet
    metrics: new Metrics(),
    clients: new ClientRegistry(),
  };
  broker = new MqttBroker(ctx);
  await broker.start();
});

afterEach(async () => {
  await broker.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

/** The client end of an in-memory connection: packets in, packets out. */
function client(version: 4 | 5 = 4) {
  const [serverEnd, clientEnd] = createMemoryPair();
  const received: mqtt.Packet[] = [];
  let closed = false;
  const parser = mqtt.parser({ protocolVersion: version });
  parser.on('packet', (p: mqtt.Packet) => received.push(p));
  clientEnd.start({ onData: (d) => parser.parse(d), onDrain: () => undefined, onClose: () => (closed = true) });
  broker.accept(serverEnd as MemoryTransport);
  return {
    received,
    isClosed: () => closed,
    send: (p: mqtt.Packet) => clientEnd.write(mqtt.generate(p, { protocolVersion: version })),
    sendBytes: (b: number[]) => clientEnd.write(Buffer.from(b)),
    destroy: () => clientEnd.destroy(),
    take: async (cmd: string) => {
      await waitFor(() => received.some((p) => p.cmd === cmd), 2000, cmd);
      return received.splice(received.findIndex((p) => p.cmd === cmd), 1)[0];
    },
  };
}

describe('MqttConnection over an in-memory transport', () => {
  it('runs CONNECT, SUBSCRIBE, PUBLISH (to itself), PINGREQ and DISCONNECT', async () => {
    const c = client(5);
    c.send({ cmd: 'connect', clientId: 'mem', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 30 });
    const connack = (await c.take('connack')) as mqtt.IConnackPacket;
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.maximumPacketSize).toBe(1_048_576);
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'm/#', qos: 1, nl: false, rap: false, rh: 0 }] });
    expect(((await c.take('suback')) as mqtt.ISubackPacket).granted).toEqual([1]);
    c.send({ cmd: 'publish', topic: 'm/1', payload: Buffer.from('loop'), qos: 1, messageId: 9, retain: false, dup: false });
    expect((await c.take('puback')).messageId).toBe(9);
    const msg = (await c.take('publish')) as mqtt.IPublishPacket;
    expect(msg.payload.toString()).toBe('loop');
    c.send({ cmd: 'puback', messageId: msg.messageId! });
    c.send({ cmd: 'pingreq' });
    await c.take('pingresp');
    expect(broker.connectedCount()).toBe(1);
    c.send({ cmd: 'disconnect', reasonCode: 0 });
    await waitFor(() => c.isClosed());
    await waitFor(() => broker.connectedCount() === 0);
    expect(broker.sessions.has('mem')).toBe(false);
  });

  it('processes packets pipelined right behind CONNECT in order', async () => {
    const c = client(4);
    c.send({ cmd: 'connect', clientId: 'pipe', protocolVersion: 4, protocolId: 'MQTT', clean: true, keepalive: 0 });
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p', qos: 0 }] });
    c.send({ cmd: 'publish', topic: 'p', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await c.take('connack');
    await c.take('suback');
    expect(((await c.take('publish')) as mqtt.IPublishPacket).payload.toString()).toBe('x');
  });

  it('closes a client whose first packet is not CONNECT, without answering', async () => {
    const c = client(4);
    c.send({ cmd: 'pingreq' });
    await waitFor(() => c.isClosed());
    expect(c.received).toEqual([]);
  });

  it('survives arbitrary bytes after CONNECT: the connection is closed or keeps working, the broker never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (garbage) => {
        const c = client(5);
        c.send({ cmd: 'connect', clientId: 'fuzz', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 0 });
        await c.take('connack');
        c.sendBytes([...garbage]);
        c.send({ cmd: 'pingreq' });
        // Closed, answered, or (a header announcing more bytes) still waiting for the rest of a packet.
        await waitFor(() => c.isClosed() || c.received.some((p) => p.cmd === 'pingresp'), 40).catch(() => undefined);
        c.destroy();
      }),
      { numRuns: 80 },
    );
    // The broker still serves a well-behaved client.
    const ok = client(4);
    ok.send({ cmd: 'connect', clientId: 'after-fuzz', protocolVersion: 4, protocolId: 'MQTT', clean: true, keepalive: 0 });
    expect(((await ok.take('connack')) as mqtt.IConnackPacket).returnCode).toBe(0);
    await waitFor(() => broker.connections.size === 1, 2000, 'fuzzed connections to be gone');
  });
});
