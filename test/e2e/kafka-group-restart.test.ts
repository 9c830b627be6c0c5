/** Committed group offsets outlive the node: after a restart on the same data dir, a consumer resumes from them. */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/groups.js';
import { kafkaClient, startMember } from '../helpers/kafka-groups.js';
import { startTestNode, tempDir, type TestNode } from '../helpers/node.js';

const nodes: TestNode[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  for (const n of nodes) await n.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(dir: string): Promise<TestNode> {
  const node = await startTestNode({ dataDir: dir, groupInitialRebalanceDelayMs: 100 });
  nodes.push(node);
  return node;
}

describe('group offsets across a restart', () => {
  it('a consumer of the group resumes at the offsets committed before the restart', async () => {
    dataDir = await tempDir('robustmq-group-restart-');
    const before = await start(dataDir);
    const kafka1 = kafkaClient(before.ports.kafka, 'restart-e2e');
    const admin1 = kafka1.admin();
    await admin1.connect();
    await admin1.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }] });
    const producer1 = kafka1.producer();
    await producer1.connect();
    await producer1.send({ topic: 'durable', messages: Array.from({ length: 6 }, (_, i) => ({ value: `old-${i}`, partition: i % 2 })) });
    const first = await startMember(kafka1, 'durable-group', 'durable');
    await until(() => first.consumed.length === 6, 20_000);
    await until(async () => {
      const [t] = await admin1.fetchOffsets({ groupId: 'durable-group', topics: ['durable'] });
      return t!.partitions.every((p) => p.offset === '3');
    }, 15_000);
    await first.consumer.disconnect();
    await producer1.disconnect();
    await admin1.disconnect();
    await before.close();

    const after = await start(dataDir);
    const kafka2 = kafkaClient(after.ports.kafka, 'restart-e2e');
    const admin2 = kafka2.admin();
    await admin2.connect();
    const [committed] = await admin2.fetchOffsets({ groupId: 'durable-group', topics: ['durable'] });
    expect(committed!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '3'], [1, '3']]);
    expect((await admin2.listGroups()).groups.map((g) => g.groupId)).toContain('durable-group');

    const producer2 = kafka2.producer();
    await producer2.connect();
    const fresh = Array.from({ length: 10 }, (_, i) => ({ value: `new-${i}`, partition: i % 2 }));
    await producer2.send({ topic: 'durable', messages: fresh });
    // Whatever the storage engine kept, everything from the committed offset 3 up to the end is due, and nothing before.
    const ends = new Map((await admin2.fetchTopicOffsets('durable')).map((p) => [p.partition, Number(p.high)]));
    const due = (ends.get(0)! - 3) + (ends.get(1)! - 3);
    expect(due).toBeGreaterThan(0);

    const second = await startMember(kafka2, 'durable-group', 'durable');
    await until(() => second.consumed.length >= due, 20_000);
    for (const p of [0, 1]) {
      const offsets = second.consumed.filter((c) => c.partition === p).map((c) => c.offset);
      expect(Math.min(...offsets)).toBe(3);
      expect(offsets.length).toBe(ends.get(p)! - 3);
    }
    expect(second.consumed.every((c) => c.value.startsWith('new-'))).toBe(true);
    await second.consumer.disconnect();
    await producer2.disconnect();
    await admin2.disconnect();
  }, 90_000);
});
