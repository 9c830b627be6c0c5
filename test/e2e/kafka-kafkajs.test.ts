/**
 * kafkajs (admin and producer) against the broker: topic administration through the controller from Metadata,
 * idempotent produce, compression, offsets for times, configs, record deletion; records read back with kcat.
 */
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchHeaders, compressionOf, Compression } from '../../runtime/storage/record-batch.js';
import { consumeAll } from '../helpers/kafka-kcat.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  node = await startTestNode({ defaultPartitions: 1 });
  kafka = new Kafka({ brokers: [`127.0.0.1:${node.ports.kafka}`], clientId: 'e2e-kafkajs', logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await node.destroy();
});

async function stored(topic: string, partition: number) {
  const read = await node.context.topics.partition(topic, partition).read(0, 1 << 30);
  return read.chunks.flatMap((c) => [...batchHeaders(c)]);
}

describe('kafkajs admin', () => {
  it('creates topics with partitions and configs, and refuses duplicates', async () => {
    const created = await admin.createTopics({
      topics: [{ topic: 'orders', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    expect(node.context.topics.get('orders')).toMatchObject({ partitions: 3, retentionMs: 3_600_000 });
    expect(await admin.createTopics({ topics: [{ topic: 'orders' }] })).toBe(false);
    const refused = await admin
      .createTopics({ topics: [{ topic: 'compacted', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
      .catch((err: { errors?: Array<{ type: string; message: string }> }) => err.errors?.[0]);
    expect(refused).toMatchObject({ type: 'INVALID_CONFIG' });
    expect(node.context.topics.get('compacted')).toBeUndefined();
    const md = await admin.fetchTopicMetadata({ topics: ['orders'] });
    expect(md.topics[0].partitions.map((p) => p.leader)).toEqual([0, 0, 0]);
  });

  it('describes the cluster with this broker as controller', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster).toMatchObject({ controller: 0, brokers: [{ nodeId: 0, host: '127.0.0.1', port: node.ports.kafka }] });
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('describes and alters topic configs; retention reaches the topic', async () => {
    await admin.alterConfigs({ resources: [{ type: 2, name: 'orders', configEntries: [{ name: 'retention.bytes', value: '1048576' }] }], validateOnly: false });
    // AlterConfigs replaces the whole set: retention.ms goes back to the broker default.
    expect(node.context.topics.get('orders')).toMatchObject({ retentionBytes: 1_048_576, retentionMs: node.context.config.retentionMs });
    const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'orders', configNames: ['retention.bytes', 'cleanup.policy'] }], includeSynonyms: false });
    const entries = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ 'retention.bytes': '1048576', 'cleanup.policy': 'delete' });
  });

  it('grows partitions', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 4 }] });
    expect(node.context.topics.get('orders')?.partitions).toBe(4);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'orders', count: 2 }] })).rejects.toThrow();
  });
});

describe('kafkajs producer', () => {
  it('produces idempotently with sequences per partition and a producer id from InitProducerId', async () => {
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'orders', messages: [{ key: `k${i}`, value: `v${i}`, partition: i % 2 }, { key: null, value: `w${i}`, partition: i % 2 }] });
    }
    const p0 = await stored('orders', 0);
    expect(p0.map((h) => h.baseSequence)).toEqual([0, 2, 4]);
    expect(new Set(p0.map((h) => h.producerId)).size).toBe(1);
    expect(p0[0].producerId).toBeGreaterThanOrEqual(0);
    expect((await stored('orders', 1)).map((h) => h.baseSequence)).toEqual([0, 2]);
  });

  it('keeps keys, null keys, headers and timestamps (read back by kcat)', async () => {
    await admin.createTopics({ topics: [{ topic: 'meta', numPartitions: 1 }] });
    await producer.send({
      topic: 'meta',
      messages: [
        { key: 'a', value: 'one', headers: { source: 'kafkajs', n: '1' }, timestamp: '1700000000000' },
        { key: null, value: 'two', timestamp: '1700000000500' },
      ],
    });
    const got = await consumeAll(node.ports.kafka, 'meta');
    expect(got.map((m) => [m.key, m.payload, m.ts, m.headers ?? null])).toEqual([
      ['a', 'one', 1700000000000, ['source', 'kafkajs', 'n', '1']],
      [null, 'two', 1700000000500, null],
    ]);
  });

  it('stores gzip batches as sent and they decompress to the records', async () => {
    await admin.createTopics({ topics: [{ topic: 'zipped', numPartitions: 1 }] });
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: String(i), value: `gzip value ${i}`.repeat(5) }));
    await producer.send({ topic: 'zipped', compression: CompressionTypes.GZIP, messages });
    const [h] = await stored('zipped', 0);
    expect(compressionOf(h.attributes)).toBe(Compression.Gzip);
    const got = await consumeAll(node.ports.kafka, 'zipped');
    expect(got.map((m) => m.payload)).toEqual(messages.map((m) => m.value));
  });

  it('finds offsets for times and deletes records', async () => {
    await admin.createTopics({ topics: [{ topic: 'timeline', numPartitions: 1 }] });
    for (const ts of [1000, 2000, 3000]) await producer.send({ topic: 'timeline', messages: [{ value: String(ts), timestamp: String(ts) }] });
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline', 1500)).toEqual([{ partition: 0, offset: '1' }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('timeline', 5000)).toEqual([{ partition: 0, offset: '3' }]);
    await admin.deleteTopicRecords({ topic: 'timeline', partitions: [{ partition: 0, offset: '2' }] });
    expect(await admin.fetchTopicOffsets('timeline')).toEqual([{ partition: 0, offset: '3', high: '3', low: '2' }]);
  });

  it('deletes a topic', async () => {
    await admin.deleteTopics({ topics: ['timeline'] });
    expect(node.context.topics.get('timeline')).toBeUndefined();
    expect(await admin.listTopics()).not.toContain('timeline');
  });

  it('gets a clear error for a transactional producer instead of hanging', async () => {
    const tx = kafka.producer({ transactionalId: 'tx-e2e', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
    const started = Date.now();
    try {
      const failure = await tx
        .connect()
        .then(() => tx.transaction())
        .then(() => null, (err: { type?: string }) => err);
      expect(failure).toMatchObject({ type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await tx.disconnect();
    }
  });
});
