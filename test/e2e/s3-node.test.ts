/**
 * Stateless brokers with S3 storage: a node on DynamoDB metadata (dynalite) and S3 storage (s3rver) takes Kafka
 * produce and fetch from kafkajs; after it is destroyed with its data dir, a node started on a new empty data dir
 * with the same bucket and table serves every acknowledged record and continues the offsets.
 */
import { rm } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { startTestNode, tempDir, type TestNode } from '../helpers/node.js';
import { SLOW_DOWN, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { S3_TEST_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

const savedEnv = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
let s3: TestS3;
let proxy: FaultProxy;
let dynamo: Dynalite;
const nodes: TestNode[] = [];

beforeAll(async () => {
  // Credentials come from the SDK's default provider chain, as in production: here, the env vars (s3rver checks
  // the key id, dynalite accepts any).
  process.env.AWS_ACCESS_KEY_ID = S3_TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3_TEST_CREDENTIALS.secretAccessKey;
  s3 = await startS3rver();
  proxy = await startFaultProxy({ port: s3.port });
  dynamo = await startDynalite();
});
afterAll(async () => {
  for (const node of nodes) await node.destroy();
  await dynamo?.close();
  await proxy?.close();
  await s3?.close();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function startNode(overrides: Parameters<typeof startTestNode>[0] = {}): Promise<TestNode> {
  const node = await startTestNode({
    meta: 'dynamodb',
    dynamodbEndpoint: dynamo.endpoint,
    dynamodbRegion: 'us-east-1',
    dynamodbTablePrefix: 'e2e-s3',
    storage: 's3',
    s3Bucket: s3.bucket,
    s3Endpoint: s3.endpoint,
    s3Region: 'us-east-1',
    s3ForcePathStyle: true,
    s3Prefix: 'e2e',
    s3FlushMs: 20,
    groupInitialRebalanceDelayMs: 0,
    ...overrides,
  });
  nodes.push(node);
  return node;
}

function client(node: TestNode): Kafka {
  return new Kafka({ brokers: [`127.0.0.1:${node.ports.kafka}`], clientId: 'e2e-s3', logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

/** Every record of the topic with a fresh consumer group, from the beginning. */
async function consumeAll(node: TestNode, topic: string, expected: number): Promise<Array<[number, number, string]>> {
  const consumer = client(node).consumer({ groupId: `g-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  const seen: Array<[number, number, string]> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${expected}`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push([partition, Number(message.offset), message.value?.toString() ?? '']);
          if (seen.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('a node with --storage s3', () => {
  it('keeps acknowledged records in S3 and serves them from a new node with an empty data dir', async () => {
    const first = await startNode();
    const kafka = client(first);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    expect(first.context.topics.get('events')?.storage).toBe('s3');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 30 }, (_, i) => ({ value: `v${batch * 30 + i}`, partition: i % 3 }));
      await producer.send({ topic: 'events', acks: -1, messages });
    }
    await producer.disconnect();
    const before = await consumeAll(first, 'events', 300);
    expect(before).toHaveLength(300);
    for (let p = 0; p < 3; p++) expect(before.filter((r) => r[0] === p).map((r) => r[1])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await first.destroy(); // its data dir goes too
    nodes.splice(nodes.indexOf(first), 1);

    const second = await startNode();
    expect(second.dataDir).not.toBe(first.dataDir);
    expect(await consumeAll(second, 'events', 300)).toEqual(before);
    const again = client(second).producer({ allowAutoTopicCreation: false });
    await again.connect();
    const [meta] = await again.send({ topic: 'events', acks: -1, messages: [{ value: 'after-restart', partition: 1 }] });
    await again.disconnect();
    expect(meta.baseOffset).toBe('100');
  }, 60_000);

  it('answers produce with a retriable KAFKA_STORAGE_ERROR while S3 is down, and takes it again once S3 is back', async () => {
    // Appends time out after 3 s: room for a PUT through the proxy and a dynalite commit on a busy machine, while
    // 'during' (S3 answers every PUT with SlowDown until it has failed) still fails within seconds.
    const node = await startNode({ s3Endpoint: proxy.endpoint, s3Prefix: 'e2e-outage', s3AppendTimeoutMs: 3000, dynamodbTablePrefix: 'e2e-s3-outage' });
    const kafka = client(node);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'outage', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    // 'before' and 'after' go through a producer that retries (client(): 5 retries); only 'during' must see the
    // error itself, so it goes through one that does not.
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const once = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await Promise.all([producer.connect(), once.connect()]);
    await producer.send({ topic: 'outage', acks: -1, messages: [{ value: 'before' }] });
    proxy.rule = (req) => (req.kind === 'put' ? SLOW_DOWN : undefined);
    const failed = await once.send({ topic: 'outage', acks: -1, messages: [{ value: 'during' }] }).catch((err: unknown) => err);
    const cause = (failed as { cause?: unknown }).cause ?? failed; // kafkajs wraps it once out of retries
    expect(cause).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', retriable: true });
    // S3 comes back right away: 'during' was rejected before its producer heard, and the writer commits no object
    // holding a rejected append (a PUT that reaches S3 afterwards is rebuilt without it). 'after' waits at most for
    // the writer's backoff (capped at 1 s) to end, well within its timeout, and its producer retries anyway.
    proxy.rule = () => undefined;
    const [after] = await producer.send({ topic: 'outage', acks: -1, messages: [{ value: 'after' }] });
    await Promise.all([producer.disconnect(), once.disconnect()]);
    expect(after.baseOffset).toBe('1'); // the failed produce left no hole and no record
    expect((await consumeAll(node, 'outage', 2)).map((r) => r[2])).toEqual(['before', 'after']);
  }, 60_000);

  it('refuses to start with --storage s3 and no bucket', async () => {
    const dataDir = await tempDir('robustmq-s3-nobucket-');
    try {
      await expect(startTestNode({ storage: 's3', dataDir })).rejects.toThrow(/--s3-bucket/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
