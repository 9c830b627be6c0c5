/** kafkajs consumer groups against a real node: sharing partitions, rebalancing, committed offsets, group admin. */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/groups.js';
import { kafkaClient, startMember, values, type TrackedMember } from '../helpers/kafka-groups.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const members: TrackedMember[] = [];

beforeAll(async () => {
  node = await startTestNode({ groupInitialRebalanceDelayMs: 300 });
  kafka = kafkaClient(node.ports.kafka, 'groups-e2e');
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
});

afterAll(async () => {
  for (const m of members) await m.consumer.disconnect().catch(() => undefined);
  await producer?.disconnect();
  await admin?.disconnect();
  await node?.destroy();
});

async function produce(topic: string, prefix: string, count: number, partitions: number): Promise<string[]> {
  const messages = Array.from({ length: count }, (_, i) => ({ value: `${prefix}-${i}`, partition: i % partitions }));
  await producer.send({ topic, messages });
  return messages.map((m) => m.value);
}

async function member(groupId: string, topic: string): Promise<TrackedMember> {
  const m = await startMember(kafka, groupId, topic);
  members.push(m);
  return m;
}

async function committedTotal(groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t!.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0);
}

describe('kafkajs consumer group', () => {
  it('two members share a 4-partition topic; when one leaves the other takes every partition', async () => {
    await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 4 }] });
    const [a, b] = await Promise.all([member('shared-group', 'shared'), member('shared-group', 'shared')]);
    await until(() => a!.assignment.length === 2 && b!.assignment.length === 2, 20_000);
    expect([...a!.assignment, ...b!.assignment].sort()).toEqual([0, 1, 2, 3]);

    const first = await produce('shared', 'first', 40, 4);
    await until(() => first.every((v) => values([a!, b!]).includes(v)), 15_000);
    for (const m of [a!, b!]) expect(m.consumed.every((c) => m.assignment.includes(c.partition))).toBe(true);
    await until(async () => (await committedTotal('shared-group', 'shared')) === 40, 15_000);

    const joinsBefore = a!.joins;
    await b!.consumer.disconnect();
    await until(() => a!.joins > joinsBefore && a!.assignment.length === 4, 20_000);
    const second = await produce('shared', 'second', 20, 4);
    await until(() => second.every((v) => a!.consumed.some((c) => c.value === v)), 15_000);
    await until(async () => (await committedTotal('shared-group', 'shared')) === 60, 15_000);
    // Nothing consumed twice: each member resumed from the offsets the group committed.
    const all = values([a!, b!]);
    expect(new Set(all).size).toBe(all.length);
    expect(a!.crashed).toBeUndefined();
  }, 60_000);

  it('lists, describes and deletes groups through the admin client', async () => {
    await admin.createTopics({ topics: [{ topic: 'admin-topic', numPartitions: 2 }] });
    const m = await member('admin-group', 'admin-topic');
    await until(() => m.assignment.length === 2, 20_000);
    await produce('admin-topic', 'x', 4, 2);
    await until(() => m.consumed.length === 4, 15_000);
    await until(async () => (await committedTotal('admin-group', 'admin-topic')) === 4, 15_000);

    const { groups } = await admin.listGroups();
    expect(groups).toContainEqual({ groupId: 'admin-group', protocolType: 'consumer' });
    const described = await admin.describeGroups(['admin-group']);
    const group = described.groups[0]!;
    expect(group).toMatchObject({ groupId: 'admin-group', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' });
    expect(group.members).toHaveLength(1);
    expect(group.members[0]).toMatchObject({ memberId: m.memberId, clientId: 'groups-e2e', clientHost: '/127.0.0.1' });

    await expect(admin.deleteGroups(['admin-group'])).rejects.toMatchObject({
      groups: [expect.objectContaining({ groupId: 'admin-group', errorCode: 68 })],
    });
    await m.consumer.disconnect();
    await until(async () => (await admin.describeGroups(['admin-group'])).groups[0]!.state === 'Empty', 10_000);
    expect(await admin.deleteGroups(['admin-group'])).toEqual([{ groupId: 'admin-group', errorCode: 0 }]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('admin-group');
    const [offsets] = await admin.fetchOffsets({ groupId: 'admin-group', topics: ['admin-topic'] });
    expect(offsets!.partitions.map((p) => p.offset)).toEqual(['-1', '-1']);
  }, 60_000);
});
