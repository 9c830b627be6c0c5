/**
 * MQTT → log on a bound topic: bindings through the CLI, mosquitto_pub seen by kcat with the MQTT topic as key in
 * Kafka's partition for that key, MQTT 5 properties as headers (kafkajs), PUBACK only after the append, one batch
 * per partition for a burst, retained messages keeping MQTT semantics, unbound topics untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HIGH_WATER_BYTES } from '../../runtime/core/bridge/appender.js';
import { partitionForKey } from '../../runtime/core/bridge/murmur2.js';
import type { PartitionLog } from '../../runtime/storage/engine.js';
import { batchHeaders } from '../../runtime/storage/record-batch.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { consumeAll } from '../helpers/kafka-kcat.js';
import { RawClient, collect, connectClient, endAll, mosquitto, sleep, waitFor } from '../helpers/mqtt.js';
import { consumeWithKafkajs, startBridgeNode, type BridgeNode } from './bridge-helpers.js';

let node: BridgeNode;
const admin = (): string[] => ['--admin', `http://127.0.0.1:${node.ports.admin}`];

beforeAll(async () => {
  node = await startBridgeNode();
});
afterAll(() => node.destroy());

const header = (headers: string[] | null, name: string): string | undefined => {
  const i = (headers ?? []).findIndex((h, j) => j % 2 === 0 && h === name);
  return i < 0 ? undefined : headers![i + 1];
};

describe('MQTT publishes to a bound topic', () => {
  it('binds with `topic create --mqtt`, lists with `topic describe`, edits with `topic update --mqtt`', async () => {
    assertBuilt();
    const created = await runCli(['topic', 'create', 'sensors', '--partitions', '3', '--mqtt', 'sensors/#', '--storage', 'memory', ...admin()]);
    expect(created.code).toBe(0);
    const described = await runCli(['topic', 'describe', 'sensors', ...admin()]);
    expect(described.stdout).toContain('MQTT bindings: sensors/#');
    const updated = await runCli(['topic', 'update', 'sensors', '--mqtt', 'sensors/#', '--mqtt', 'labs/+/temp', ...admin()]);
    expect(updated.code).toBe(0);
    const json = JSON.parse((await runCli(['topic', 'describe', 'sensors', '--json', ...admin()])).stdout);
    expect(json.mqttBindings).toEqual(['sensors/#', 'labs/+/temp']);
    await runCli(['topic', 'update', 'sensors', '--mqtt', 'sensors/#', ...admin()]);
    expect(node.context.topics.get('sensors')?.mqttBindings).toEqual(['sensors/#']);
    const bad = await runCli(['topic', 'create', 'bad', '--mqtt', 'a/#/b', ...admin()]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid MQTT binding/);
  });

  it('mosquitto_pub to sensors/line1/temp is read by kcat with that key, in the key\'s Kafka partition', async () => {
    const before = Date.now();
    const pub = await mosquitto('mosquitto_pub', ['-p', String(node.ports.mqtt), '-t', 'sensors/line1/temp', '-m', '21.5', '-q', '1']);
    expect(pub.code).toBe(0);
    const got = await consumeAll(node.ports.kafka, 'sensors');
    const mine = got.filter((m) => m.key === 'sensors/line1/temp');
    expect(mine).toHaveLength(1);
    expect(mine[0].payload).toBe('21.5');
    expect(mine[0].partition).toBe(partitionForKey(Buffer.from('sensors/line1/temp'), 3));
    expect(mine[0].ts).toBeGreaterThanOrEqual(before - 1);
    expect(mine[0].ts).toBeLessThanOrEqual(Date.now());
    expect(header(mine[0].headers, 'mqtt.qos')).toBe('1');
    expect(header(mine[0].headers, 'mqtt.retain')).toBe('false');
  });

  it('carries MQTT 5 user properties, content type, response topic and correlation data as Kafka headers (kafkajs)', async () => {
    const client = await connectClient(node.mqttUrl, { protocolVersion: 5, clientId: 'v5-props' });
    await client.publishAsync('sensors/dev9/status', 'ok', {
      qos: 1,
      properties: {
        userProperties: { site: 'north', tag: ['a', 'b'] },
        contentType: 'text/plain',
        responseTopic: 'replies/dev9',
        correlationData: Buffer.from([1, 2, 3]),
      },
    });
    await endAll(client);
    const m = await consumeWithKafkajs(node, 'sensors', 'sensors/dev9/status');
    expect(m.value?.toString()).toBe('ok');
    const h = m.headers!;
    expect(h['site']?.toString()).toBe('north');
    // Two values of one user property are two headers with that name (kafkajs gathers them into an array).
    expect((h['tag'] as Buffer[]).map(String)).toEqual(['a', 'b']);
    expect(h['mqtt.content-type']?.toString()).toBe('text/plain');
    expect(h['mqtt.response-topic']?.toString()).toBe('replies/dev9');
    expect(h['mqtt.correlation-data']).toEqual(Buffer.from([1, 2, 3]));
    expect(h['mqtt.qos']?.toString()).toBe('1');
  });

  it('sends PUBACK only once the append has completed', async () => {
    const topics = node.context.topics;
    await topics.create({ name: 'held', partitions: 1, storage: 'memory', mqttBindings: ['held/#'] });
    const log = topics.partition('held', 0) as PartitionLog & { append: PartitionLog['append'] };
    const original = log.append.bind(log);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    log.append = async (batches) => {
      await gate;
      return original(batches);
    };
    const client = await connectClient(node.mqttUrl, { clientId: 'held-pub' });
    let acked = false;
    const publishing = client.publishAsync('held/x', 'wait for it', { qos: 1 }).then(() => (acked = true));
    await sleep(300);
    expect(acked).toBe(false);
    expect(log.highWatermark()).toBe(0);
    release();
    await publishing;
    expect(log.highWatermark()).toBe(1);
    log.append = original;
    await endAll(client);
  });

  it('refuses to acknowledge a QoS 1 publish whose append fails (the connection closes, nothing is lost silently)', async () => {
    const topics = node.context.topics;
    await topics.create({ name: 'broken', partitions: 1, storage: 'memory', mqttBindings: ['broken/#'] });
    const log = topics.partition('broken', 0);
    const original = log.append.bind(log);
    log.append = async () => {
      throw new Error('disk on fire');
    };
    const client = await connectClient(node.mqttUrl, { clientId: 'broken-pub' });
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    let acked = false;
    void client.publishAsync('broken/x', 'lost?', { qos: 1 }).then(() => (acked = true), () => undefined);
    await closed;
    expect(acked).toBe(false);
    log.append = original;
    client.end(true);
  });

  it('holds a flooding QoS 0 publisher back while the log lags, and loses nothing', async () => {
    await node.context.topics.create({ name: 'flood', partitions: 1, storage: 'memory', mqttBindings: ['flood/#'] });
    const log = node.context.topics.partition('flood', 0);
    const original = log.append.bind(log);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    log.append = async (batches) => {
      await gate;
      return original(batches);
    };
    const raw = await RawClient.open(node.ports.mqtt, 4);
    await raw.connect({ clientId: 'flooder' });
    const payload = Buffer.alloc(20_000, 1);
    // Twice what the bridge buffers before it holds publishers back.
    const count = Math.ceil((2 * HIGH_WATER_BYTES) / payload.length);
    for (let i = 0; i < count; i++) raw.send({ cmd: 'publish', topic: `flood/${i % 10}`, payload, qos: 0, retain: false, dup: false });
    const conn = [...node.mqtt.broker.connections].find((c) => c.clientId === 'flooder')!;
    await waitFor(() => conn.readingPaused, 10_000, 'the publisher to be paused');
    expect(node.context.bridge!.overloaded).toBe(true);
    release();
    await waitFor(() => log.highWatermark() === count, 20_000, `all ${count} records`);
    log.append = original;
    raw.close();
  });

  it('gathers a burst of publishes into one record batch per partition', async () => {
    await node.context.topics.create({ name: 'burst', partitions: 2, storage: 'memory', mqttBindings: ['burst/#'] });
    const client = await connectClient(node.mqttUrl, { clientId: 'burst-pub' });
    await Promise.all(Array.from({ length: 400 }, (_, i) => client.publishAsync(`burst/dev${i % 4}`, String(i), { qos: 1 })));
    await endAll(client);
    let records = 0;
    let batches = 0;
    for (let p = 0; p < 2; p++) {
      const read = await node.context.topics.partition('burst', p).read(0, 1 << 30);
      for (const chunk of read.chunks) {
        for (const h of batchHeaders(chunk)) {
          batches++;
          records += h.recordCount;
        }
      }
    }
    expect(records).toBe(400);
    expect(batches).toBeLessThan(40);
    // Each device's messages are in publish order in its partition.
    const got = await consumeAll(node.ports.kafka, 'burst');
    for (let d = 0; d < 4; d++) {
      const values = got.filter((m) => m.key === `burst/dev${d}`).sort((a, b) => a.offset - b.offset).map((m) => Number(m.payload));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i * 4 + d));
    }
  });

  it('delivers a bound publish exactly once to MQTT subscribers, QoS 0 included', async () => {
    const sub = await connectClient(node.mqttUrl, { clientId: 'once-sub' });
    await sub.subscribeAsync('sensors/#', { qos: 1 });
    const got = collect(sub);
    const pub = await connectClient(node.mqttUrl, { clientId: 'once-pub' });
    await pub.publishAsync('sensors/once/a', 'q1', { qos: 1 });
    await pub.publishAsync('sensors/once/b', 'q0', { qos: 0 });
    await pub.publishAsync('sensors/once/c', 'q2', { qos: 2 });
    await waitFor(() => got.length >= 3, 3000, 'three messages');
    await sleep(200);
    expect(got.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual(['sensors/once/a=q1', 'sensors/once/b=q0', 'sensors/once/c=q2']);
    await endAll(sub, pub);
  });

  it('keeps MQTT retained semantics on a bound topic, and records RETAIN as a header', async () => {
    const pub = await connectClient(node.mqttUrl, { clientId: 'ret-pub' });
    await pub.publishAsync('sensors/ret/state', 'on', { qos: 1, retain: true });
    const late = await connectClient(node.mqttUrl, { clientId: 'ret-sub' });
    const got = collect(late);
    await late.subscribeAsync('sensors/ret/#', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'the retained message');
    expect(got[0].payload).toBe('on');
    expect(got[0].packet.retain).toBe(true);
    // An empty retained publish clears it [MQTT-3.3.1-10]; it is a record too.
    await pub.publishAsync('sensors/ret/state', '', { qos: 1, retain: true });
    const again = await connectClient(node.mqttUrl, { clientId: 'ret-sub2' });
    const got2 = collect(again);
    await again.subscribeAsync('sensors/ret/#', { qos: 1 });
    await sleep(200);
    expect(got2).toHaveLength(0);
    const records = (await consumeAll(node.ports.kafka, 'sensors')).filter((m) => m.key === 'sensors/ret/state');
    expect(records.map((r) => [r.payload ?? '', header(r.headers, 'mqtt.retain')])).toEqual([
      ['on', 'true'],
      ['', 'true'],
    ]);
    await endAll(pub, late, again);
  });

  it('leaves unbound topics alone', async () => {
    const before = node.context.topics.list().map((t) => [t.name, node.context.topics.describe(t.name).partitionInfo.map((p) => p.highWatermark)]);
    const pub = await connectClient(node.mqttUrl, { clientId: 'unbound-pub' });
    await pub.publishAsync('elsewhere/x', 'not logged', { qos: 1 });
    await endAll(pub);
    const after = node.context.topics.list().map((t) => [t.name, node.context.topics.describe(t.name).partitionInfo.map((p) => p.highWatermark)]);
    expect(after).toEqual(before);
  });
});
