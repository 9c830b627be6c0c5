/**
 * Persistent MQTT sessions on bound topics resume from the log: while a session is away it keeps an offset cursor
 * per bound topic partition in the MetaStore (no per-session copies), and on reconnect it gets everything appended
 * meanwhile, in order — also across a broker restart on the segment engine.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { kcat } from '../helpers/kafka-kcat.js';
import type { IPublishPacket } from 'mqtt-packet';
import { connectClient, connectWithConnack, endAll, RawClient, sleep, waitFor, type Received } from '../helpers/mqtt.js';
import { tempDir } from '../helpers/node.js';
import { kafkaClient, startBridgeNode, type BridgeNode } from './bridge-helpers.js';

let node: BridgeNode | undefined;
let dirs: string[] = [];
afterEach(async () => {
  await node?.close();
  node = undefined;
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

async function subscribeAndLeave(n: BridgeNode, clientId: string, filter = 'sensors/#'): Promise<void> {
  const c = await connectClient(n.mqttUrl, { clientId, clean: false });
  await c.subscribeAsync(filter, { qos: 1 });
  await endAll(c);
  await waitFor(() => n.mqtt.broker.sessions.get(clientId)?.logCursors !== undefined, 3000, 'the session to park');
}

const lines = (from: number, count: number, key = 'sensors/dev1/t'): string =>
  Array.from({ length: count }, (_, i) => `${key}:${from + i}`).join('\n') + '\n';

const values = (got: Received[], topic?: string): number[] => got.filter((m) => topic === undefined || m.topic === topic).map((m) => Number(m.payload));
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('persistent sessions on bound topics', () => {
  it('get 1,000 Kafka records produced while offline, in order, from the log rather than from per-session copies', async () => {
    node = await startBridgeNode({ mqttSessionQueueLimit: 100 });
    await node.context.topics.create({ name: 'sensors', partitions: 3, storage: 'memory', mqttBindings: ['sensors/#'] });
    await subscribeAndLeave(node, 'offline-1');
    await node.mqtt.broker.store.flush();
    const cursors = await node.context.meta.list('mqtt-cursors', 'offline-1\u0000');
    expect(cursors.map((e) => e.value)).toEqual([{ clientId: 'offline-1', topic: 'sensors', offsets: [0, 0, 0] }]);

    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(0, 1000));
    // Nothing was copied into the session's queue: the log is the queue.
    expect(await node.context.meta.list('mqtt-queue', 'offline-1\u0000')).toHaveLength(0);
    expect(node.mqtt.broker.sessions.get('offline-1')!.queued).toBe(0);

    const back = await connectWithConnack(node.mqttUrl, { clientId: 'offline-1', clean: false });
    expect(back.connack.sessionPresent).toBe(true);
    // Records keep arriving while it catches up (the queue limit of 100 makes the resume take many steps).
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(1000, 200));
    await waitFor(() => back.got.length >= 1200, 15_000, '1,200 messages');
    expect(values(back.got)).toEqual(range(0, 1200));
    await waitFor(() => node!.mqtt.broker.sessions.get('offline-1')!.logCursors === undefined, 3000, 'the cursor to go');
    expect(await node.context.meta.list('mqtt-cursors', 'offline-1\u0000')).toHaveLength(0);
    await endAll(back.client);
  });

  it('resume in order per device across partitions, for Kafka records and MQTT publishes alike, honouring subscriptions', async () => {
    node = await startBridgeNode();
    await node.context.topics.create({ name: 'sensors', partitions: 4, storage: 'memory', mqttBindings: ['sensors/#'] });
    await subscribeAndLeave(node, 'offline-2', 'sensors/+/t');
    const producer = kafkaClient(node).producer();
    await producer.connect();
    const pub = await connectClient(node.mqttUrl, { clientId: 'mqtt-pub' });
    for (let i = 0; i < 300; i++) {
      const key = `sensors/dev${i % 6}/t`;
      if (i % 2 === 0) await producer.send({ topic: 'sensors', messages: [{ key, value: String(i) }] });
      else await pub.publishAsync(key, String(i), { qos: 1 });
    }
    // Not matched by the session's subscription: stays in the log only.
    await pub.publishAsync('sensors/dev1/humidity', 'h', { qos: 1 });
    await producer.disconnect();
    const back = await connectWithConnack(node.mqttUrl, { clientId: 'offline-2', clean: false });
    await waitFor(() => back.got.length >= 300, 10_000, '300 messages');
    for (let d = 0; d < 6; d++) {
      expect(values(back.got, `sensors/dev${d}/t`)).toEqual(range(0, 300).filter((i) => i % 6 === d));
    }
    expect(back.got).toHaveLength(300);
    await endAll(back.client, pub);
  });

  it('get everything after a broker restart (segment engine): produced before it and after it', async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    node = await startBridgeNode({ dataDir, storage: 'segment' });
    await node.context.topics.create({ name: 'sensors', partitions: 3, storage: 'segment', mqttBindings: ['sensors/#'] });
    await subscribeAndLeave(node, 'offline-3');
    // This one is online when the broker stops: it is parked by the shutdown itself.
    const online = await connectClient(node.mqttUrl, { clientId: 'online-at-stop', clean: false });
    await online.subscribeAsync('sensors/#', { qos: 1 });
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(0, 1000));
    await node.close();
    online.end(true);

    node = await startBridgeNode({ dataDir, storage: 'segment' });
    const parked = await node.context.meta.list<{ clientId: string }>('mqtt-cursors');
    expect(parked.map((e) => e.value.clientId).sort()).toEqual(['offline-3', 'online-at-stop']);
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(1000, 1000));
    expect(await node.context.meta.list('mqtt-queue', 'offline-3\u0000')).toHaveLength(0);
    const back = await connectWithConnack(node.mqttUrl, { clientId: 'offline-3', clean: false });
    expect(back.connack.sessionPresent).toBe(true);
    await waitFor(() => back.got.length >= 2000, 20_000, '2,000 messages');
    expect(values(back.got)).toEqual(range(0, 2000));

    const other = await connectWithConnack(node.mqttUrl, { clientId: 'online-at-stop', clean: false });
    await waitFor(() => values(other.got).filter((v) => v >= 1000).length >= 1000, 20_000, '1,000 messages after the restart');
    // It had the first 1,000 live (or queued) before the stop; the 1,000 produced while it was away come from the log.
    expect(values(other.got).filter((v) => v >= 1000)).toEqual(range(1000, 1000));
    await endAll(back.client, other.client);
  });

  it('a session that drops out while catching up resumes where it got to', async () => {
    node = await startBridgeNode({ mqttSessionQueueLimit: 20 });
    await node.context.topics.create({ name: 'sensors', partitions: 1, storage: 'memory', mqttBindings: ['sensors/#'] });
    await subscribeAndLeave(node, 'flaky');
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(0, 500));
    const first = await connectWithConnack(node.mqttUrl, { clientId: 'flaky', clean: false });
    await waitFor(() => first.got.length >= 50, 5000, 'the first 50');
    first.client.end(true);
    await waitFor(() => node!.mqtt.broker.sessions.get('flaky')?.online === false, 3000, 'the disconnect');
    const second = await connectWithConnack(node.mqttUrl, { clientId: 'flaky', clean: false });
    const seen = (): number[] => [...new Set([...values(first.got), ...values(second.got)])];
    await waitFor(() => seen().length >= 500, 10_000, 'all 500');
    expect(seen().sort((a, b) => a - b)).toEqual(range(0, 500));
    // In order on each connection; at most the unacknowledged window comes again.
    const again = values(second.got);
    expect(again).toEqual([...again].sort((a, b) => a - b));
    expect(values(first.got).length + again.length - 500).toBeLessThanOrEqual(40);
    await endAll(second.client);
  });

  it('leave and come back while QoS 0 publishes stream in (segment engine): every message once, in order', async () => {
    // QoS 0 reaches live subscribers before its append completes, so a session can leave with messages it had
    // ahead of the log: its cursor must point past exactly those, and its return must wait for them to be stored.
    const dataDir = await tempDir();
    dirs.push(dataDir);
    node = await startBridgeNode({ dataDir, storage: 'segment' });
    await node.context.topics.create({ name: 'sensors', partitions: 2, storage: 'segment', mqttBindings: ['sensors/#'] });
    const port = node.ports.mqtt;
    const total = 6000;
    const subscriber = async (): Promise<RawClient> => {
      const c = await RawClient.open(port);
      await c.connect({ clientId: 'streamed', clean: false });
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sensors/#', qos: 0 }] });
      await c.next('suback');
      return c;
    };
    const seen = (c: RawClient): number[] => c.packets.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => Number(p.payload.toString()));

    const first = await subscriber();
    const pub = await connectClient(node.mqttUrl, { clientId: 'streamer' });
    let published = 0;
    const publishing = (async () => {
      for (; published < total; published++) {
        pub.publish('sensors/dev1/t', String(published), { qos: 0 });
        if (published % 50 === 49) await sleep(1);
      }
    })();
    await waitFor(() => seen(first).length >= 1500, 20_000, 'the first 1,500 live');
    // Leaves mid-stream, reading everything the broker wrote before it closed the connection.
    first.send({ cmd: 'disconnect' });
    await first.waitClosed(5000);
    await waitFor(() => published >= 3500, 20_000, 'publishing while away');
    const second = await subscriber();
    await publishing;
    await waitFor(() => seen(second).includes(total - 1), 20_000, 'the last message');
    const a = seen(first);
    const b = seen(second);
    expect(a).toEqual(range(0, a.length));
    expect(b).toEqual(range(a.length, total - a.length));
    first.close();
    second.close();
    await endAll(pub);
  });

  it('forgets cursors when the session ends (clean start)', async () => {
    node = await startBridgeNode();
    await node.context.topics.create({ name: 'sensors', partitions: 1, storage: 'memory', mqttBindings: ['sensors/#'] });
    await subscribeAndLeave(node, 'offline-4');
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], lines(0, 10));
    const clean = await connectWithConnack(node.mqttUrl, { clientId: 'offline-4', clean: true });
    expect(clean.connack.sessionPresent).toBe(false);
    let left = -1;
    for (let i = 0; i < 100 && left !== 0; i++) {
      left = (await node.context.meta.list('mqtt-cursors')).length;
      if (left !== 0) await sleep(20);
    }
    expect(left).toBe(0);
    expect(clean.got).toHaveLength(0);
    await endAll(clean.client);
  });
});
