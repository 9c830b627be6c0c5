/**
 * The scheduler's decision, pure: from the live brokers, the partitions that exist and their leadership entries,
 * what to write. In order of urgency:
 *
 * 1. A partition with no entry, or whose leader is not live, is assigned at once to the live broker leading the
 *    fewest partitions (ties: fewer client connections, then id), with the next epoch. Its dead leader is listed
 *    in `dead`, to be fenced before any assignment is written.
 * 2. A handoff whose target is gone, or that its leader did not complete within `handoffTimeoutMs`, is cancelled.
 * 3. Partitions of a draining broker are handed off (not rate-limited: it is leaving).
 * 4. Only when nothing above happened, load is evened out: while the most loaded broker leads two or more
 *    partitions more than the least loaded one, one of its partitions is handed off — at most `maxMoves` per plan.
 *    Handoffs are cooperative (the live leader stops serving, then passes leadership on), so traffic continues.
 * 5. Entries of partitions that no longer exist are deleted.
 */
import type { BrokerLeaseValue, PartitionLeader } from './records.js';
import { leaderKey } from './records.js';

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface LeaderEntry {
  readonly key: string;
  readonly value: PartitionLeader;
  readonly version: number;
}

export type PlanAction =
  | { type: 'assign'; topic: string; partition: number; to: string | null; epoch: number; expectedVersion: number }
  | { type: 'handoff'; topic: string; partition: number; from: string; to: string; expectedVersion: number }
  | { type: 'cancel-handoff'; topic: string; partition: number; expectedVersion: number }
  | { type: 'delete'; key: string; expectedVersion: number };

export interface PlanInput {
  readonly brokers: readonly BrokerLeaseValue[];
  readonly partitions: readonly PartitionRef[];
  readonly entries: readonly LeaderEntry[];
  readonly now: number;
  /** Balancing handoffs allowed in this plan. */
  readonly maxMoves: number;
  readonly handoffTimeoutMs: number;
}

export interface Plan {
  readonly actions: PlanAction[];
  /** Brokers that lead partitions but hold no live lease: fence them before writing assignments. */
  readonly dead: string[];
  /** Balancing handoffs planned (counted against the move budget). */
  readonly moves: number;
}

export function planLeadership(input: PlanInput): Plan {
  const live = new Map(input.brokers.map((b) => [b.id, b]));
  const targets = input.brokers.filter((b) => !b.draining);
  const load = new Map(targets.map((b) => [b.id, 0]));
  const entries = new Map(input.entries.map((e) => [e.key, e]));
  const owned = new Map<string, LeaderEntry[]>(targets.map((b) => [b.id, []]));
  for (const e of input.entries) {
    const holder = e.value.handoffTo && load.has(e.value.handoffTo) ? e.value.handoffTo : e.value.leader;
    if (holder && load.has(holder)) load.set(holder, load.get(holder)! + 1);
    if (e.value.leader && !e.value.handoffTo && owned.has(e.value.leader)) owned.get(e.value.leader)!.push(e);
  }
  const pick = (): string | null => {
    let best: BrokerLeaseValue | undefined;
    for (const b of targets) if (!best || lighter(b, best, load)) best = b;
    if (!best) return null;
    load.set(best.id, load.get(best.id)! + 1);
    return best.id;
  };

  const actions: PlanAction[] = [];
  const dead = new Set<string>();
  const wanted = new Set<string>();
  let urgent = false;
  for (const { topic, partition } of input.partitions) {
    const key = leaderKey(topic, partition);
    wanted.add(key);
    const e = entries.get(key);
    const v = e?.value;
    if (!e || !v || v.leader === null || !live.has(v.leader)) {
      if (v?.leader) dead.add(v.leader);
      if (e && v?.leader === null && targets.length === 0) continue;
      urgent = true;
      actions.push({ type: 'assign', topic, partition, to: pick(), epoch: (v?.epoch ?? 0) + 1, expectedVersion: e?.version ?? 0 });
    } else if (v.handoffTo !== undefined) {
      const stale = input.now - (v.handoffAt ?? 0) > input.handoffTimeoutMs;
      if (!load.has(v.handoffTo) || stale) actions.push({ type: 'cancel-handoff', topic, partition, expectedVersion: e.version });
    } else if (live.get(v.leader)?.draining) {
      const to = pick();
      if (to) actions.push({ type: 'handoff', topic, partition, from: v.leader, to, expectedVersion: e.version });
    }
  }
  for (const e of input.entries) if (!wanted.has(e.key)) actions.push({ type: 'delete', key: e.key, expectedVersion: e.version });

  let moves = 0;
  while (!urgent && moves < input.maxMoves) {
    const order = [...targets].sort((a, b) => (lighter(a, b, load) ? -1 : 1));
    const light = order[0];
    const heavy = order[order.length - 1];
    if (!light || !heavy || load.get(heavy.id)! - load.get(light.id)! <= 1) break;
    const candidate = owned.get(heavy.id)!.pop();
    if (!candidate) break;
    const { topic, partition } = candidate.value;
    actions.push({ type: 'handoff', topic, partition, from: heavy.id, to: light.id, expectedVersion: candidate.version });
    load.set(heavy.id, load.get(heavy.id)! - 1);
    load.set(light.id, load.get(light.id)! + 1);
    moves++;
  }
  return { actions, dead: [...dead], moves };
}

function lighter(a: BrokerLeaseValue, b: BrokerLeaseValue, load: Map<string, number>): boolean {
  const la = load.get(a.id) ?? 0;
  const lb = load.get(b.id) ?? 0;
  if (la !== lb) return la < lb;
  const ca = connections(a);
  const cb = connections(b);
  if (ca !== cb) return ca < cb;
  return a.id < b.id;
}

function connections(b: BrokerLeaseValue): number {
  return Object.values(b.connections ?? {}).reduce((n, c) => n + c, 0);
}
