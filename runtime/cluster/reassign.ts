/**
 * Carries out one leadership plan (planner.ts) against the MetaStore. Every write is a compare-and-set on the
 * entry's version, so concurrent schedulers (a `robustmq meta` process and the Lambda, or two meta processes)
 * cannot undo each other: the loser's write fails and its next run sees the new state.
 *
 * Fencing comes first. Before a dead broker's partitions are given to anyone, its S3 write lease (every
 * 's3-leases' entry naming it) is bumped, so a paused broker that resumes cannot commit another object: its next
 * commit's lease check fails (runtime/storage/s3/fence.ts). If the fence cannot be written, that broker's
 * partitions wait for the next run rather than risk two writers.
 *
 * `reassignLeadership` has the shape the scheduler tick expects (runtime/scheduler/reassign.ts), so the scaling
 * Lambda passes it as `reassign`.
 */
import { isRobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { TopicRecord } from '../meta/records.js';
import { planLeadership, type LeaderEntry, type PartitionRef, type Plan, type PlanAction } from './planner.js';
import { isLive, leaderKey, type BrokerLeaseValue, type PartitionLeader } from './records.js';

export interface ReassignOptions {
  /** Balancing handoffs allowed in this run. @default 0 (only dead brokers' partitions move) */
  readonly maxMoves?: number;
  /** A handoff not completed by its leader within this is cancelled. @default 15000 */
  readonly handoffTimeoutMs?: number;
  readonly log?: Logger;
}

export interface ReassignOutcome {
  /** Partitions given a new leader (dead or missing leader). */
  readonly moved: number;
  /** Partitions left without a leader because no broker is live. */
  readonly leaderless: number;
  /** Balancing and draining handoffs asked of live leaders. */
  readonly handoffs: number;
  /** Brokers whose storage lease was bumped in this run. */
  readonly fenced: string[];
}

/** One scheduler run. `live`: the brokers the caller found live (others are treated as dead). */
export async function reassignLeadership(
  meta: MetaStore,
  live: readonly { readonly id: string }[],
  now: number,
  options: ReassignOptions = {},
): Promise<ReassignOutcome> {
  const ids = new Set(live.map((b) => b.id));
  const [leases, topics, entries] = await Promise.all([
    meta.list<BrokerLeaseValue>('brokers'),
    meta.list<TopicRecord>('topics'),
    meta.list<PartitionLeader>('partitions'),
  ]);
  const brokers = leases.filter((e) => ids.has(e.key) && isLive(e, now) && e.value?.id === e.key).map((e) => e.value);
  const plan = planLeadership({
    brokers,
    partitions: partitionsOf(topics.map((t) => t.value)),
    entries: entries as LeaderEntry[],
    now,
    maxMoves: options.maxMoves ?? 0,
    handoffTimeoutMs: options.handoffTimeoutMs ?? 15_000,
  });
  return apply(meta, plan, entries as LeaderEntry[], now, options.log);
}

export function partitionsOf(topics: readonly TopicRecord[]): PartitionRef[] {
  return topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition })));
}

async function apply(meta: MetaStore, plan: Plan, entries: LeaderEntry[], now: number, log?: Logger): Promise<ReassignOutcome> {
  const byKey = new Map(entries.map((e) => [e.key, e.value]));
  const unsafe = new Set<string>();
  const fenced: string[] = [];
  for (const id of plan.dead) {
    try {
      if (await fenceBroker(meta, id, now)) fenced.push(id);
    } catch (err) {
      unsafe.add(id);
      log?.warn({ err, brokerId: id }, 'could not fence a dead broker; its partitions wait');
    }
  }
  if (fenced.length > 0) log?.info({ brokers: fenced }, 'dead brokers fenced');
  let moved = 0;
  let leaderless = 0;
  let handoffs = 0;
  for (const action of plan.actions) {
    if (action.type === 'assign') {
      const from = byKey.get(leaderKey(action.topic, action.partition))?.leader;
      if (from && unsafe.has(from)) continue;
      if (action.to === null) leaderless++;
    }
    try {
      await write(meta, action, byKey, now);
      if (action.type === 'assign' && action.to !== null) moved++;
      if (action.type === 'handoff') handoffs++;
    } catch (err) {
      if (!isRobustMQError(err, 'CONFLICT')) throw err;
      log?.debug({ action }, 'leadership entry changed under the scheduler; next run looks again');
    }
  }
  if (moved > 0 || handoffs > 0) log?.info({ moved, handoffs, leaderless }, 'partition leadership changed');
  return { moved, leaderless, handoffs, fenced };
}

async function write(meta: MetaStore, action: PlanAction, byKey: Map<string, PartitionLeader>, now: number): Promise<void> {
  if (action.type === 'delete') {
    await meta.delete('partitions', action.key, { expectedVersion: action.expectedVersion });
    return;
  }
  const key = leaderKey(action.topic, action.partition);
  const current = byKey.get(key);
  let value: PartitionLeader;
  switch (action.type) {
    case 'assign':
      value = { topic: action.topic, partition: action.partition, leader: action.to, epoch: action.epoch, since: now };
      break;
    case 'handoff':
      value = { ...current!, handoffTo: action.to, handoffAt: now };
      break;
    case 'cancel-handoff': {
      const { handoffTo: _to, handoffAt: _at, ...rest } = current!;
      value = rest;
      break;
    }
  }
  await meta.put('partitions', key, value, { expectedVersion: action.expectedVersion });
}

/**
 * Bumps every S3 write lease held by `brokerId` (any bucket or prefix), unless the broker has a live membership
 * lease again (it restarted: its new process took the S3 lease itself). Resolves true when a lease was bumped.
 */
export async function fenceBroker(meta: MetaStore, brokerId: string, now = Date.now()): Promise<boolean> {
  const membership = await meta.get('brokers', brokerId);
  if (membership && isLive(membership, now)) return false;
  let bumped = false;
  for (const lease of await meta.list<{ brokerId?: string }>('s3-leases')) {
    if (lease.value?.brokerId !== brokerId) continue;
    const value = { brokerId, holder: 'scheduler', acquiredAt: now, fenced: true };
    try {
      await meta.put('s3-leases', lease.key, value, { expectedVersion: lease.version });
    } catch (err) {
      // Changed since listed: another scheduler bumped it, or the broker restarted and took it back.
      if (!isRobustMQError(err, 'CONFLICT')) throw err;
      const again = await meta.get('brokers', brokerId);
      if (again && isLive(again, Date.now())) return bumped;
      await meta.put('s3-leases', lease.key, value);
    }
    bumped = true;
  }
  return bumped;
}
