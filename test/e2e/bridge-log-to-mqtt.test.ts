/**
 * Log → MQTT: records produced by Kafka clients to a bound topic reach MQTT subscribers — on the record key when
 * it is a topic name matching the binding, else on the Kafka topic's name; headers become user properties (and
 * back); every compression codec kcat offers is bridged; records that came from MQTT are not delivered twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compression, batchHeaders, compressionOf } from '../../runtime/storage/record-batch.js';
import { kcat } from '../helpers/kafka-kcat.js';
import { collect, connectClient, endAll, mosquitto, sleep, waitFor } from '../helpers/mqtt.js';
import { consumeWithKafkajs, kafkaClient, startBridgeNode, waitForSubscriptions, type BridgeNode } from './bridge-helpers.js';

let node: BridgeNode;

beforeAll(async () => {
  node = await startBridgeNode();
  await node.context.topics.create({ name: 'sensors', partitions: 3, storage: 'memory', mqttBindings: ['sensors/#'] });
  await node.context.topics.create({ name: 'cmds', partitions: 2, storage: 'memory', mqttBindings: ['devices/+/cmd'] });
});
afterAll(() => node.destroy());

describe('Kafka records on a bound topic', () => {
  it('kcat -P -K: with key sensors/dev1/cmd reaches mosquitto_sub -t sensors/# on sensors/dev1/cmd', async () => {
    const subs = node.mqtt.broker.router.trie.size;
    const sub = mosquitto('mosquitto_sub', ['-p', String(node.ports.mqtt), '-t', 'sensors/#', '-v', '-C', '1', '-W', '10']);
    await waitForSubscriptions(node, subs + 1);
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:'], 'sensors/dev1/cmd:reboot\n');
    const out = await sub;
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toBe('sensors/dev1/cmd reboot');
  });

  it('uses the Kafka topic name when the key is missing, not a topic name, or outside the binding', async () => {
    const client = await connectClient(node.mqttUrl, { clientId: 'fallback-sub' });
    const got = collect(client);
    await client.subscribeAsync({ cmds: { qos: 1 }, 'devices/#': { qos: 1 }, 'other/#': { qos: 1 } });
    const producer = kafkaClient(node).producer();
    await producer.connect();
    await producer.send({
      topic: 'cmds',
      messages: [
        { key: 'devices/7/cmd', value: 'matching key' },
        { key: null, value: 'no key' },
        { key: 'other/place', value: 'key outside the binding' },
        { key: 'devices/+/cmd', value: 'wildcard key' },
      ],
    });
    await producer.disconnect();
    await waitFor(() => got.length === 4, 5000, 'four messages');
    expect(got.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual([
      'cmds=key outside the binding',
      'cmds=no key',
      'cmds=wildcard key',
      'devices/7/cmd=matching key',
    ]);
    await endAll(client);
  });

  it('maps kafkajs headers to MQTT 5 user properties and mqtt.js v5 user properties to kafkajs headers', async () => {
    const client = await connectClient(node.mqttUrl, { protocolVersion: 5, clientId: 'props-sub' });
    const got = collect(client);
    await client.subscribeAsync('sensors/props/#', { qos: 1 });
    const producer = kafkaClient(node).producer();
    await producer.connect();
    await producer.send({
      topic: 'sensors',
      messages: [
        {
          key: 'sensors/props/in',
          value: 'from kafka',
          headers: { site: 'south', 'mqtt.content-type': 'text/plain', 'mqtt.qos': '1', 'mqtt.correlation-data': Buffer.from([9, 8]) },
        },
      ],
    });
    await producer.disconnect();
    await waitFor(() => got.length === 1, 5000, 'the kafkajs record over MQTT');
    const p = got[0].packet;
    expect(got[0].topic).toBe('sensors/props/in');
    expect(p.qos).toBe(1);
    expect(p.properties?.userProperties).toEqual({ site: 'south' });
    expect(p.properties?.contentType).toBe('text/plain');
    expect(p.properties?.correlationData).toEqual(Buffer.from([9, 8]));
    // ... and back: an MQTT 5 publish arrives at kafkajs with its user properties as headers.
    await client.publishAsync('sensors/props/out', 'from mqtt', { qos: 1, properties: { userProperties: { site: 'east' } } });
    await waitFor(() => got.length === 2, 5000, 'the MQTT publish looped back once');
    const back = await consumeWithKafkajs(node, 'sensors', 'sensors/props/out');
    expect(back.headers?.['site']?.toString()).toBe('east');
    expect(got[1].packet.properties?.userProperties).toEqual({ site: 'east' });
    await endAll(client);
  });

  it('bridges every compression codec (gzip, snappy, lz4, zstd)', async () => {
    const client = await connectClient(node.mqttUrl, { clientId: 'codec-sub' });
    const got = collect(client);
    await client.subscribeAsync('sensors/codec/#', { qos: 1 });
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    for (const codec of codecs) {
      const lines = Array.from({ length: 50 }, (_, i) => `sensors/codec/${codec}:${codec}-${i}-${'x'.repeat(100)}`).join('\n');
      await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:', '-z', codec], `${lines}\n`);
    }
    await waitFor(() => got.length === 250, 10_000, '250 messages');
    // The batches really are stored compressed with each codec (librdkafka sends uncompressed when that is smaller).
    const stored = new Set<Compression>();
    for (let p = 0; p < 3; p++) {
      for (const chunk of (await node.context.topics.partition('sensors', p).read(0, 1 << 30)).chunks) {
        for (const h of batchHeaders(chunk)) stored.add(compressionOf(h.attributes));
      }
    }
    expect([...stored].sort()).toEqual([Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]);
    for (const codec of codecs) {
      const mine = got.filter((m) => m.topic === `sensors/codec/${codec}`).map((m) => m.payload.split('-').slice(0, 2).join('-'));
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => `${codec}-${i}`));
    }
    await endAll(client);
  });

  it('sets the retained message from a record with mqtt.retain: true', async () => {
    await kcat(node.ports.kafka, ['-P', '-t', 'sensors', '-K:', '-H', 'mqtt.retain=true'], 'sensors/retained/x:kept\n');
    await waitFor(() => node.mqtt.broker.retained.get('sensors/retained/x') !== undefined, 5000, 'the retained message');
    const late = await connectClient(node.mqttUrl, { clientId: 'late-sub' });
    const got = collect(late);
    await late.subscribeAsync('sensors/retained/#', { qos: 1 });
    await waitFor(() => got.length === 1, 3000, 'the retained message on subscribe');
    expect(got[0].payload).toBe('kept');
    expect(got[0].packet.retain).toBe(true);
    await endAll(late);
  });

  it('does not deliver records that came from MQTT a second time', async () => {
    const client = await connectClient(node.mqttUrl, { clientId: 'echo' });
    const got = collect(client);
    await client.subscribeAsync('sensors/echo/#', { qos: 1 });
    for (let i = 0; i < 20; i++) await client.publishAsync(`sensors/echo/${i % 3}`, String(i), { qos: i % 2 ? 1 : 0 });
    await waitFor(() => got.length >= 20, 3000, '20 messages');
    await sleep(300);
    expect(got).toHaveLength(20);
    await endAll(client);
  });
});
