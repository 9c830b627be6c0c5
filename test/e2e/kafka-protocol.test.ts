/**
 * The Kafka front-end at the wire level, over real sockets: ApiVersions negotiation, unsupported versions,
 * Metadata in classic and flexible versions, auto-creation, in-order pipelining and acks=0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../runtime/storage/record-batch.js';
import { RawKafka, withSize } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const API_VERSIONS = 18;
const METADATA = 3;
const PRODUCE = 0;
const FETCH = 1;

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

const produceBody = (topic: string, partition: number, records: Buffer, acks = -1) => ({
  transactionalId: null,
  acks,
  timeoutMs: 1000,
  topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
});

describe('ApiVersions', () => {
  it.each([0, 1, 2, 3])('v%i lists the served APIs with the ranges clients need', async (v) => {
    const res = await conn.request(API_VERSIONS, v, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(res.errorCode).toBe(0);
    const range = (key: number) => res.apiKeys.find((k: { apiKey: number }) => k.apiKey === key);
    // librdkafka enables gzip/snappy (MsgVer1) only if Produce and Fetch ranges include v2, MsgVer2 needs 3 and 4.
    expect(range(PRODUCE).minVersion).toBeLessThanOrEqual(2);
    expect(range(PRODUCE).maxVersion).toBeGreaterThanOrEqual(9);
    expect(range(FETCH).minVersion).toBeLessThanOrEqual(2);
    expect(range(FETCH).maxVersion).toBeGreaterThanOrEqual(12);
    expect(range(METADATA)).toMatchObject({ minVersion: 0, maxVersion: 12 });
    expect(range(API_VERSIONS)).toMatchObject({ minVersion: 0, maxVersion: 3 });
    for (const key of [2, 19, 20, 21, 22, 23, 32, 33, 37, 44, 60]) expect(range(key), `api ${key}`).toBeDefined();
  });

  it('answers a newer ApiVersions with UNSUPPORTED_VERSION in a v0 response that still lists the ranges', async () => {
    const id = 900;
    // ApiVersions v4 (header v2) — a version we do not speak.
    conn.write(withSize(Buffer.from(`0012000400000${id.toString(16)}000474657374` + '00' + '0574657374' + '0231' + '00', 'hex')));
    const frame = (await conn.nextFrame())!;
    expect(frame.readInt32BE(0)).toBe(id);
    const res = conn.decodeResponse(frame, API_VERSIONS, 0, id);
    expect(res.errorCode).toBe(35);
    expect(res.apiKeys.length).toBeGreaterThan(10);
  });

  it('answers an unknown API key with UNSUPPORTED_VERSION and keeps the connection', async () => {
    conn.write(withSize(Buffer.from('03e7000000000bb80000', 'hex'))); // key 999, v0, correlation 3000
    const frame = (await conn.nextFrame())!;
    expect(frame.toString('hex')).toBe('00000bb80023');
    const res = await conn.request(API_VERSIONS, 0, {});
    expect(res.errorCode).toBe(0);
  });
});

describe('Metadata', () => {
  it('auto-creates a requested topic and describes this broker as leader and controller (v12, flexible)', async () => {
    const res = await conn.request(METADATA, 12, { topics: [{ topicId: '0'.repeat(32), name: 'auto-md' }], allowAutoTopicCreation: true });
    expect(res.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: node.ports.kafka, rack: null }]);
    expect(res.controllerId).toBe(0);
    expect(res.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const [topic] = res.topics;
    expect(topic).toMatchObject({ errorCode: 0, name: 'auto-md', isInternal: false });
    expect(topic.topicId).not.toBe('0'.repeat(32));
    expect(topic.partitions.map((p: { partitionIndex: number; leaderId: number }) => [p.partitionIndex, p.leaderId])).toEqual([[0, 0], [1, 0]]);
  });

  it('does not create a topic when the request forbids it, and names invalid topics', async () => {
    const res = await conn.request(METADATA, 9, { topics: [{ name: 'no-auto' }, { name: 'bad name!' }], allowAutoTopicCreation: false });
    expect(res.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([3, 17]);
    expect(node.context.topics.get('no-auto')).toBeUndefined();
  });

  it('lists every topic for a null topic array (v1+) and for an empty one in v0', async () => {
    const v1 = await conn.request(METADATA, 1, { topics: null });
    const v0 = await conn.request(METADATA, 0, { topics: [] });
    expect(v1.topics.map((t: { name: string }) => t.name)).toContain('auto-md');
    expect(v0.topics.map((t: { name: string }) => t.name)).toContain('auto-md');
    const none = await conn.request(METADATA, 4, { topics: [], allowAutoTopicCreation: true });
    expect(none.topics).toEqual([]);
  });

  it('advertises the configured host and port instead of the dialled address', async () => {
    const other = await startTestNode({ advertisedHost: 'kafka.example', advertisedPort: 19092 });
    const c = await RawKafka.connect(other.ports.kafka);
    try {
      const res = await c.request(METADATA, 8, { topics: [] });
      expect(res.brokers[0]).toMatchObject({ host: 'kafka.example', port: 19092 });
    } finally {
      c.close();
      await other.destroy();
    }
  });
});

describe('request ordering', () => {
  it('answers pipelined requests in order, even behind a long-polling Fetch', async () => {
    await node.context.topics.create({ name: 'pipe', partitions: 1 });
    const fetchId = conn.post(FETCH, 11, {
      replicaId: -1, maxWaitMs: 300, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'pipe', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const metaId = conn.post(METADATA, 4, { topics: [{ name: 'pipe' }] });
    const versionsId = conn.post(API_VERSIONS, 2, {});
    const started = Date.now();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await conn.nextFrame())!.readInt32BE(0));
    expect(ids).toEqual([fetchId, metaId, versionsId]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('sends nothing back for acks=0 but stores the records', async () => {
    await node.context.topics.create({ name: 'fire', partitions: 1 });
    conn.post(PRODUCE, 9, produceBody('fire', 0, encodeRecordBatch([{ value: Buffer.from('x') }]), 0));
    const versionsId = conn.post(API_VERSIONS, 3, {});
    const frame = (await conn.nextFrame())!;
    expect(frame.readInt32BE(0)).toBe(versionsId);
    expect(node.context.topics.partition('fire', 0).highWatermark()).toBe(1);
  });
});

describe('connections', () => {
  it('registers connections with their client id and counts bytes and records in the metrics', async () => {
    const before = await node.context.metrics.registry.getSingleMetricAsString('robustmq_messages_received_total');
    const c = await RawKafka.connect(node.ports.kafka);
    await node.context.topics.create({ name: 'counted', partitions: 1 });
    await c.request(PRODUCE, 7, produceBody('counted', 0, encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }])));
    const clients = node.context.clients.list('kafka');
    expect(clients.some((cl) => cl.clientId === 'raw-test')).toBe(true);
    const metrics = await node.context.metrics.registry.metrics();
    expect(metrics).toMatch(/robustmq_connections\{protocol="kafka"\} [2-9]/);
    const received = (text: string) => Number(/robustmq_messages_received_total\{protocol="kafka"\} (\d+)/.exec(text)?.[1]);
    expect(received(metrics) - received(before)).toBe(2);
    expect(metrics).toMatch(/robustmq_bytes_received_total\{protocol="kafka"\} [1-9]/);
    c.close();
    await c.closedPromise;
    await new Promise((r) => setTimeout(r, 50));
    expect(node.context.clients.list('kafka').length).toBe(clients.length - 1);
  });

  it('ends long-polls and closes connections promptly when the node stops', async () => {
    const other = await startTestNode();
    await other.context.topics.create({ name: 'idle', partitions: 1 });
    const c = await RawKafka.connect(other.ports.kafka);
    c.post(FETCH, 12, {
      replicaId: -1, maxWaitMs: 20_000, minBytes: 1, maxBytes: 1 << 20, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await other.destroy();
    await c.closedPromise;
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
