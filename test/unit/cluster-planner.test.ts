/** The scheduler's pure leadership plan: failover first, handoffs only when nothing is urgent, bounded moves. */
import { describe, expect, it } from 'vitest';
import { planLeadership, type LeaderEntry, type PlanInput } from '../../runtime/cluster/planner.js';
import { leaderKey, type BrokerLeaseValue, type PartitionLeader } from '../../runtime/cluster/records.js';

const NOW = 1_000_000;

function broker(id: string, extra: Partial<BrokerLeaseValue> = {}): BrokerLeaseValue {
  return {
    id,
    nodeId: Number(id.replace(/\D/g, '')) || 1,
    host: '127.0.0.1',
    kafka: { host: '127.0.0.1', port: 1 },
    internal: { host: '127.0.0.1', port: 2 },
    startedAt: 0,
    heartbeatAt: NOW,
    connections: {},
    lastActivityAt: 0,
    partitions: 0,
    ...extra,
  };
}

function entry(topic: string, partition: number, leader: string | null, epoch = 1, extra: Partial<PartitionLeader> = {}, version = 3): LeaderEntry {
  return { key: leaderKey(topic, partition), version, value: { topic, partition, leader, epoch, since: 0, ...extra } };
}

const parts = (topic: string, n: number) => Array.from({ length: n }, (_, partition) => ({ topic, partition }));

function plan(input: Partial<PlanInput>) {
  return planLeadership({ brokers: [], partitions: [], entries: [], now: NOW, maxMoves: 0, handoffTimeoutMs: 10_000, ...input });
}

describe('planLeadership', () => {
  it('assigns new partitions evenly over live brokers with epoch 1', () => {
    const p = plan({ brokers: [broker('b1'), broker('b2'), broker('b3')], partitions: parts('t', 6) });
    const assigns = p.actions.filter((a) => a.type === 'assign');
    expect(assigns).toHaveLength(6);
    const counts = new Map<string, number>();
    for (const a of assigns) {
      if (a.type !== 'assign') continue;
      expect(a.epoch).toBe(1);
      expect(a.expectedVersion).toBe(0);
      counts.set(a.to!, (counts.get(a.to!) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([2, 2, 2]);
  });

  it("moves a dead broker's partitions to live ones with the next epoch and lists it for fencing", () => {
    const entries = [entry('t', 0, 'b1', 4), entry('t', 1, 'b2', 2), entry('t', 2, 'b1', 7), entry('t', 3, 'b3', 1)];
    const p = plan({ brokers: [broker('b2'), broker('b3')], partitions: parts('t', 4), entries, maxMoves: 10 });
    expect(p.dead).toEqual(['b1']);
    const assigns = p.actions.filter((a) => a.type === 'assign');
    expect(assigns.map((a) => a.type === 'assign' && [a.partition, a.epoch, a.expectedVersion])).toEqual([
      [0, 5, 3],
      [2, 8, 3],
    ]);
    // One to each survivor, and no balancing handoff in the same plan.
    expect(new Set(assigns.map((a) => a.type === 'assign' && a.to))).toEqual(new Set(['b2', 'b3']));
    expect(p.actions.some((a) => a.type === 'handoff')).toBe(false);
  });

  it('balances onto a new broker by cooperative handoffs, at most maxMoves at a time', () => {
    const entries = parts('t', 6).map(({ topic, partition }) => entry(topic, partition, partition % 2 === 0 ? 'b1' : 'b2'));
    const brokers = [broker('b1'), broker('b2'), broker('b3')];
    const one = plan({ brokers, partitions: parts('t', 6), entries, maxMoves: 1 });
    expect(one.moves).toBe(1);
    expect(one.actions).toEqual([expect.objectContaining({ type: 'handoff', to: 'b3' })]);
    const all = plan({ brokers, partitions: parts('t', 6), entries, maxMoves: 10 });
    expect(all.moves).toBe(2);
    expect(all.actions.every((a) => a.type === 'handoff' && a.to === 'b3')).toBe(true);
  });

  it('leaves a balanced cluster alone', () => {
    const entries = parts('t', 6).map(({ topic, partition }) => entry(topic, partition, `b${(partition % 3) + 1}`));
    const p = plan({ brokers: [broker('b1'), broker('b2'), broker('b3')], partitions: parts('t', 6), entries, maxMoves: 10 });
    expect(p.actions).toEqual([]);
  });

  it("hands a draining broker's partitions off and cancels stale or orphaned handoffs", () => {
    const entries = [
      entry('t', 0, 'b1'),
      entry('t', 1, 'b2', 1, { handoffTo: 'gone', handoffAt: NOW }),
      entry('t', 2, 'b2', 1, { handoffTo: 'b3', handoffAt: NOW - 60_000 }),
      entry('t', 3, 'b3', 1, { handoffTo: 'b2', handoffAt: NOW - 100 }),
    ];
    const brokers = [broker('b1', { draining: true }), broker('b2'), broker('b3')];
    const p = plan({ brokers, partitions: parts('t', 4), entries });
    expect(p.actions).toEqual([
      expect.objectContaining({ type: 'handoff', partition: 0, from: 'b1' }),
      expect.objectContaining({ type: 'cancel-handoff', partition: 1 }),
      expect.objectContaining({ type: 'cancel-handoff', partition: 2 }),
    ]);
  });

  it('deletes entries of partitions that no longer exist and records no leader when none is live', () => {
    const p = plan({ partitions: parts('t', 1), entries: [entry('t', 0, 'b1'), entry('gone', 0, 'b1')] });
    expect(p.actions).toEqual([
      { type: 'assign', topic: 't', partition: 0, to: null, epoch: 2, expectedVersion: 3 },
      { type: 'delete', key: 'gone/0', expectedVersion: 3 },
    ]);
    expect(p.dead).toEqual(['b1']);
  });
});
