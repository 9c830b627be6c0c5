/**
 * The scheduler function's leadership pass (runtime/scheduler/reassign.ts → runtime/cluster/reassign.ts) against a
 * DynamoDB MetaStore in dynalite: when a broker's lease expires, its partitions go to live brokers with their
 * epochs bumped, its S3 write lease is fenced first, a write by the dead broker is refused afterwards, and
 * balancing is held to REBALANCE_MOVES_PER_RUN handoffs a run.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerLeaseValue, PartitionLeader } from '../../runtime/cluster/records.js';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import type { TopicRecord } from '../../runtime/meta/records.js';
import { readBrokerLeases } from '../../runtime/scheduler/leases.js';
import { REBALANCE_MOVES_PER_RUN, schedulerReassign } from '../../runtime/scheduler/reassign.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';

let dynamo: Dynalite;
let meta: DynamoMetaStore;
let tableNo = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());
beforeEach(async () => {
  meta = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, tablePrefix: `reassign${++tableNo}` });
});
afterEach(async () => meta?.close());

/** A broker's membership lease as `robustmq broker` writes it. */
async function join(id: string, ttlMs = 30_000): Promise<void> {
  const now = Date.now();
  const value: BrokerLeaseValue = {
    id,
    nodeId: 100 + tableNo,
    host: '10.0.1.20',
    kafka: { host: '10.0.1.20', port: 9092 },
    internal: { host: '10.0.1.20', port: 9094 },
    startedAt: now,
    heartbeatAt: now,
    connections: {},
    lastActivityAt: now,
    partitions: 0,
  };
  await meta.put('brokers', id, value, { ttlMs });
}

async function topic(name: string, partitions: number, leader: string, epoch: number): Promise<void> {
  const record: TopicRecord = {
    name,
    partitions,
    storage: 's3',
    retentionMs: -1,
    retentionBytes: -1,
    cleanupPolicy: 'delete',
    mqttBindings: [],
    createdAt: Date.now(),
    configs: {},
  };
  await meta.put('topics', name, record);
  for (let partition = 0; partition < partitions; partition++) {
    const value: PartitionLeader = { topic: name, partition, leader, epoch, since: Date.now() - 60_000 };
    await meta.put('partitions', `${name}/${partition}`, value);
  }
}

/** One run as the function does it: the live leases it read, then the pass. */
async function run() {
  const now = Date.now();
  const { live } = await readBrokerLeases(meta, now);
  return schedulerReassign()(meta, live, now);
}

async function leaders(): Promise<Map<string, PartitionLeader & { version: number }>> {
  const entries = await meta.list<PartitionLeader>('partitions');
  return new Map(entries.map((e) => [e.key, { ...e.value, version: e.version }]));
}

async function waitExpired(id: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await meta.get('brokers', id)) !== undefined) {
    if (Date.now() > deadline) throw new Error(`lease of ${id} did not expire`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('scheduler leadership pass', () => {
  it("gives an expired broker's partitions to the live brokers with the next epoch, after fencing its S3 lease", async () => {
    await join('b1');
    await join('b2');
    await topic('orders', 4, 'dead', 3);
    await topic('events', 2, 'dead', 7);
    await meta.put('s3-leases', 'robustmq/dead', { brokerId: 'dead', holder: 'dead-proc', acquiredAt: Date.now() });
    const leaseBefore = (await meta.get('s3-leases', 'robustmq/dead'))!;
    // Joined last, with a TTL the run below reads its lease well within even on a loaded machine.
    await join('dead', 2_000);

    // While the lease is live nothing is taken from its holder (balancing only asks it to hand partitions over).
    const early = await run();
    expect(early.moved).toBe(0);
    expect(early.fenced).toEqual([]);
    expect([...(await leaders()).values()].every((l) => l.leader === 'dead')).toBe(true);

    await waitExpired('dead');
    const started = Date.now();
    const outcome = await run();
    expect(outcome).toMatchObject({ moved: 6, leaderless: 0, fenced: ['dead'] });

    const after = await leaders();
    expect([...after.keys()].sort()).toEqual(['events/0', 'events/1', 'orders/0', 'orders/1', 'orders/2', 'orders/3']);
    for (const [key, l] of after) {
      expect(['b1', 'b2'], key).toContain(l.leader);
      expect(l.epoch, key).toBe(key.startsWith('orders/') ? 4 : 8);
      expect(l.since).toBeGreaterThanOrEqual(started);
    }
    const counts = [...after.values()].reduce<Record<string, number>>((c, l) => ({ ...c, [l.leader!]: (c[l.leader!] ?? 0) + 1 }), {});
    expect(counts).toEqual({ b1: 3, b2: 3 });

    const fence = (await meta.get<{ brokerId: string; holder: string; fenced?: boolean }>('s3-leases', 'robustmq/dead'))!;
    expect(fence.value).toMatchObject({ brokerId: 'dead', holder: 'scheduler', fenced: true });
    expect(fence.version).toBeGreaterThan(leaseBefore.version);
  });

  it('refuses the dead leader a write based on what it saw, and changes nothing on the next run', async () => {
    await join('b1');
    await join('dead', 1_000);
    await topic('orders', 2, 'dead', 1);
    const seenByDead = await meta.get<PartitionLeader>('partitions', 'orders/0');
    await waitExpired('dead');
    expect((await run()).moved).toBe(2);

    // A paused broker that wakes up and renews "its" leadership from its stale view loses the compare-and-set.
    const stale = { ...seenByDead!.value, since: Date.now() };
    await expect(meta.put('partitions', 'orders/0', stale, { expectedVersion: seenByDead!.version })).rejects.toMatchObject({ code: 'CONFLICT' });
    const before = await leaders();
    expect(before.get('orders/0')).toMatchObject({ leader: 'b1', epoch: 2 });

    const again = await run();
    expect(again).toMatchObject({ moved: 0, leaderless: 0, handoffs: 0, fenced: [] });
    expect(await leaders()).toEqual(before);
  });

  it('leaves partitions leaderless, epoch bumped, while no broker is live, and gives them out when one joins', async () => {
    await join('only', 1_000);
    await topic('orders', 3, 'only', 5);
    await waitExpired('only');

    expect(await run()).toMatchObject({ moved: 0, leaderless: 3 });
    for (const l of (await leaders()).values()) expect(l).toMatchObject({ leader: null, epoch: 6 });

    await join('fresh');
    expect(await run()).toMatchObject({ moved: 3, leaderless: 0 });
    for (const l of (await leaders()).values()) expect(l).toMatchObject({ leader: 'fresh', epoch: 7 });
  });

  it(`asks for at most ${REBALANCE_MOVES_PER_RUN} balancing handoffs a run when a broker joins`, async () => {
    await join('b1');
    await topic('orders', 20, 'b1', 1);
    await join('b2');

    const outcome = await run();
    expect(outcome).toMatchObject({ moved: 0, handoffs: REBALANCE_MOVES_PER_RUN });
    const pending = [...(await leaders()).values()].filter((l) => l.handoffTo !== undefined);
    expect(pending).toHaveLength(REBALANCE_MOVES_PER_RUN);
    // A handoff is asked of the live leader, which completes it: leader and epoch stay until it does.
    for (const l of pending) expect(l).toMatchObject({ leader: 'b1', handoffTo: 'b2', epoch: 1 });
  });
});
