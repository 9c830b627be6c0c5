/** librdkafka (kcat) balanced consumers: join, consume, commit, and resume from the committed offsets. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaClient } from '../helpers/kafka-groups.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

let node: TestNode;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  node = await startTestNode({ groupInitialRebalanceDelayMs: 100 });
  kafka = kafkaClient(node.ports.kafka, 'kcat-e2e');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await node?.destroy();
});

/** Runs a kcat balanced consumer (`-G`) until it has read `count` messages; returns them as `partition/offset/value`. */
async function kcatGroup(group: string, topic: string, count: number): Promise<string[]> {
  const { stdout } = await run(
    'kcat',
    [
      '-b', `127.0.0.1:${node.ports.kafka}`,
      '-G', group,
      '-X', 'auto.offset.reset=earliest',
      '-X', 'session.timeout.ms=6000',
      '-X', 'heartbeat.interval.ms=500',
      '-X', 'fetch.wait.max.ms=100',
      '-c', String(count),
      '-q',
      '-f', '%p/%o/%s\n',
      topic,
    ],
    { timeout: 30_000 },
  );
  return stdout.split('\n').filter((line) => line.length > 0);
}

describe('kcat balanced consumer', () => {
  it('consumes every partition, commits on close, and a second run resumes after the committed offsets', async () => {
    await admin.createTopics({ topics: [{ topic: 'kcat-topic', numPartitions: 3 }] });
    await producer.send({ topic: 'kcat-topic', messages: Array.from({ length: 9 }, (_, i) => ({ value: `a${i}`, partition: i % 3 })) });

    const first = await kcatGroup('kcat-group', 'kcat-topic', 9);
    expect(first.map((l) => l.split('/')[2]).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `a${i}`).sort());
    const [committed] = await admin.fetchOffsets({ groupId: 'kcat-group', topics: ['kcat-topic'] });
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '3'],
      [1, '3'],
      [2, '3'],
    ]);

    await producer.send({ topic: 'kcat-topic', messages: Array.from({ length: 3 }, (_, i) => ({ value: `b${i}`, partition: i })) });
    const second = await kcatGroup('kcat-group', 'kcat-topic', 3);
    expect(second.sort()).toEqual(['0/3/b0', '1/3/b1', '2/3/b2']);

    const { groups } = await admin.listGroups();
    expect(groups).toContainEqual({ groupId: 'kcat-group', protocolType: 'consumer' });
  }, 60_000);
});
