/**
 * Topic administration APIs at the wire level, in their flexible versions (which kafkajs and kcat do not send):
 * CreateTopics v7, DeleteTopics v6 (by id), CreatePartitions v3, DeleteRecords v2, DescribeConfigs v4,
 * AlterConfigs v2, IncrementalAlterConfigs v1, DescribeCluster v1, OffsetForLeaderEpoch v4, InitProducerId v4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../runtime/storage/record-batch.js';
import { RawKafka } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let conn: RawKafka;

beforeAll(async () => {
  node = await startTestNode({ defaultPartitions: 2 });
  conn = await RawKafka.connect(node.ports.kafka);
});
afterAll(async () => {
  conn.close();
  await node.destroy();
});

const createTopic = (name: string, numPartitions = -1, configs: Array<{ name: string; value: string | null }> = [], validateOnly = false) =>
  conn.request(19, 7, { topics: [{ name, numPartitions, replicationFactor: -1, assignments: [], configs }], timeoutMs: 1000, validateOnly });

describe('CreateTopics v7', () => {
  it('creates with defaults and reports partitions, replication factor, topic id and configs', async () => {
    const res = await createTopic('adm', -1, [{ name: 'retention.ms', value: '60000' }]);
    const [t] = res.topics;
    expect(t).toMatchObject({ name: 'adm', errorCode: 0, numPartitions: 2, replicationFactor: 1 });
    expect(t.topicId).toMatch(/^[0-9a-f]{32}$/);
    expect(t.configs).toContainEqual(expect.objectContaining({ name: 'retention.ms', value: '60000', configSource: 1 }));
    expect(node.context.topics.get('adm')?.retentionMs).toBe(60_000);
  });

  it('answers TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_CONFIG', async () => {
    expect((await createTopic('adm')).topics[0].errorCode).toBe(36);
    expect((await createTopic('bad/name')).topics[0].errorCode).toBe(17);
    expect((await createTopic('zero', 0)).topics[0].errorCode).toBe(37);
    const compact = (await createTopic('cmp', 1, [{ name: 'cleanup.policy', value: 'compact' }])).topics[0];
    expect(compact).toMatchObject({ errorCode: 40, errorMessage: expect.stringMatching(/compaction/) });
    expect((await createTopic('neg', 1, [{ name: 'retention.ms', value: '-7' }])).topics[0].errorCode).toBe(40);
  });

  it('validates without creating when validate_only is set', async () => {
    expect((await createTopic('dry', 3, [], true)).topics[0]).toMatchObject({ errorCode: 0, numPartitions: 3 });
    expect(node.context.topics.get('dry')).toBeUndefined();
  });
});

describe('configs', () => {
  const describeTopic = async (version = 4) => {
    const res = await conn.request(32, version, { resources: [{ resourceType: 2, resourceName: 'adm', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    return Object.fromEntries(res.results[0].configs.map((c: { name: string; value: string }) => [c.name, c.value]));
  };

  it('describes topic and broker configs (v4 flexible, v0)', async () => {
    expect(await describeTopic()).toMatchObject({ 'retention.ms': '60000', 'cleanup.policy': 'delete', 'retention.bytes': '-1' });
    expect(await describeTopic(0)).toMatchObject({ 'retention.ms': '60000' });
    const broker = await conn.request(32, 4, { resources: [{ resourceType: 4, resourceName: '0', configurationKeys: ['num.partitions'] }] });
    expect(broker.results[0]).toMatchObject({ errorCode: 0, configs: [{ name: 'num.partitions', value: '2', readOnly: true }] });
    const missing = await conn.request(32, 4, { resources: [{ resourceType: 2, resourceName: 'nope', configurationKeys: null }] });
    expect(missing.results[0].errorCode).toBe(3);
  });

  it('applies IncrementalAlterConfigs SET, DELETE and APPEND and refuses compaction', async () => {
    const alter = (configs: Array<{ name: string; configOperation: number; value: string | null }>, resourceName = 'adm') =>
      conn.request(44, 1, { resources: [{ resourceType: 2, resourceName, configs }], validateOnly: false });
    expect((await alter([{ name: 'retention.bytes', configOperation: 0, value: '4096' }, { name: 'segment.ms', configOperation: 0, value: '100' }])).responses[0].errorCode).toBe(0);
    expect(node.context.topics.get('adm')).toMatchObject({ retentionBytes: 4096, retentionMs: 60_000, configs: { 'segment.ms': '100' } });
    expect((await alter([{ name: 'retention.ms', configOperation: 1, value: null }])).responses[0].errorCode).toBe(0);
    expect(node.context.topics.get('adm')?.retentionMs).toBe(node.context.config.retentionMs);
    expect((await alter([{ name: 'cleanup.policy', configOperation: 2, value: 'delete' }])).responses[0].errorCode).toBe(0);
    const compact = await alter([{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }]);
    expect(compact.responses[0]).toMatchObject({ errorCode: 40, errorMessage: expect.stringMatching(/compaction/) });
    expect((await alter([{ name: 'retention.ms', configOperation: 0, value: '1' }], 'ghost')).responses[0].errorCode).toBe(3);
    const broker = await conn.request(44, 1, { resources: [{ resourceType: 4, resourceName: '0', configs: [] }], validateOnly: false });
    expect(broker.responses[0].errorCode).toBe(42);
  });

  it('replaces the whole set with AlterConfigs v2', async () => {
    const res = await conn.request(33, 2, { resources: [{ resourceType: 2, resourceName: 'adm', configs: [{ name: 'retention.ms', value: '5000' }] }], validateOnly: false });
    expect(res.responses[0].errorCode).toBe(0);
    expect(node.context.topics.get('adm')).toMatchObject({ retentionMs: 5000, retentionBytes: -1, configs: {} });
  });
});

describe('partitions and records', () => {
  it('grows partitions with CreatePartitions v3 and refuses shrinking', async () => {
    const grow = await conn.request(37, 3, { topics: [{ name: 'adm', count: 5, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(grow.results[0]).toMatchObject({ name: 'adm', errorCode: 0 });
    expect(node.context.topics.get('adm')?.partitions).toBe(5);
    const shrink = await conn.request(37, 3, { topics: [{ name: 'adm', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(shrink.results[0].errorCode).toBe(37);
    const ghost = await conn.request(37, 0, { topics: [{ name: 'ghost', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(ghost.results[0].errorCode).toBe(3);
  });

  it('moves the log start with DeleteRecords v2 (offset -1 = high watermark) and refuses offsets past the end', async () => {
    await node.context.topics.append('adm', 0, encodeRecordBatch(Array.from({ length: 4 }, (_, i) => ({ value: Buffer.from(String(i)) }))));
    const del = (offset: number) => conn.request(21, 2, { topics: [{ name: 'adm', partitions: [{ partitionIndex: 0, offset }] }], timeoutMs: 1000 });
    expect((await del(2)).topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 2 });
    expect((await del(10)).topics[0].partitions[0].errorCode).toBe(1);
    expect((await del(-1)).topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 4 });
  });

  it('answers OffsetForLeaderEpoch v4: epoch 0 ends at the high watermark', async () => {
    const res = await conn.request(23, 4, {
      replicaId: -1,
      topics: [{ topic: 'adm', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 1, currentLeaderEpoch: 3, leaderEpoch: 0 }, { partition: 9, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    });
    expect(res.topics[0].partitions.map((p: { errorCode: number; leaderEpoch: number; endOffset: number }) => [p.errorCode, p.leaderEpoch, p.endOffset])).toEqual([
      [0, 0, 4],
      [75, -1, -1],
      [3, -1, -1],
    ]);
  });
});

describe('cluster, producers, deletion', () => {
  it('describes the cluster (DescribeCluster v1)', async () => {
    const res = await conn.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(res).toMatchObject({ errorCode: 0, controllerId: 0, brokers: [{ brokerId: 0, host: '127.0.0.1', port: node.ports.kafka, rack: null }] });
  });

  it('hands out increasing producer ids (InitProducerId v4, flexible)', async () => {
    const a = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const b = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: a.producerId, producerEpoch: 0 });
    expect(a).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    expect(b.producerId).toBeGreaterThan(a.producerId);
  });

  it('deletes topics by id (v6) and by name (v1), and reports unknown ones', async () => {
    const md = await conn.request(3, 12, { topics: [{ topicId: '0'.repeat(32), name: 'adm' }] });
    const topicId = md.topics[0].topicId;
    const byId = await conn.request(20, 6, { topics: [{ name: null, topicId }], timeoutMs: 1000 });
    expect(byId.responses[0]).toMatchObject({ name: 'adm', topicId, errorCode: 0 });
    expect(node.context.topics.get('adm')).toBeUndefined();
    await node.context.topics.create({ name: 'by-name', partitions: 1 });
    const byName = await conn.request(20, 1, { topicNames: ['by-name', 'ghost'], timeoutMs: 1000 });
    expect(byName.responses.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, 3]);
    const unknownId = await conn.request(20, 6, { topics: [{ name: null, topicId: 'ab'.repeat(16) }], timeoutMs: 1000 });
    expect(unknownId.responses[0].errorCode).toBe(100);
  });
});
