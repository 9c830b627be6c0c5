/**
 * Cluster failover time: `npx tsx bench/cluster-failover.ts [--kills N] [--ttl-ms N] [--partitions N]` (after
 * `npm run build`). Runs dynalite + s3rver, one `robustmq meta` and three `robustmq broker` processes, and a topic,
 * then N times: SIGKILL the broker leading the most partitions, measure, restart it, let the cluster rebalance.
 *
 * Measured from the victim's lease expiry (the `expiresAt` of its last heartbeat, watched in the MetaStore):
 *  - assigned: every partition's leadership entry names a live broker;
 *  - serving:  ListOffsets for every partition, sent to a surviving broker (forwarded to each leader), succeeds —
 *              the new leaders have opened the partitions and answer.
 * Also kill → serving, which adds the time the lease took to expire (at most the TTL). Prints p50 / max / min and
 * writes bench/results/<timestamp>.json. Exports `clusterFailoverSuite` for bench/run.ts.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { PartitionLeader } from '../runtime/cluster/records.js';
import type { DynamoMetaStore } from '../runtime/meta/dynamodb/store.js';
import { assertBuilt } from '../test/helpers/cli.js';
import { clusterStatus, startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from '../test/helpers/cluster.js';
import { RawKafka } from '../test/helpers/kafka-raw.js';
import { median } from './lib/stats.js';
import { writeResults } from './lib/results.js';
import type { Suite, SuiteOptions, SuiteResult } from './lib/suite.js';
import { renderTable, type Table } from './lib/table.js';

const TOPIC = 'failover-bench';
const IDS = ['b1', 'b2', 'b3'];

interface Round {
  victim: string;
  moved: number;
  killToExpiryMs: number;
  assignedMs: number;
  servingMs: number;
  killToServingMs: number;
}

interface Options {
  kills: number;
  ttlMs: number;
  partitions: number;
  log(message: string): void;
}

/** The latest lease expiry seen per broker, polled every 20 ms. */
function watchLeases(meta: DynamoMetaStore): { expiry: Map<string, number>; stop(): void } {
  const expiry = new Map<string, number>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      try {
        for (const e of await meta.list('brokers')) if (e.expiresAt !== undefined) expiry.set(e.key, e.expiresAt);
      } catch {
        // a missed poll only coarsens the figure
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { expiry, stop: () => void (stopped = true) };
}

async function serving(port: number, partitions: number): Promise<boolean> {
  const raw = await RawKafka.connect(port);
  try {
    const parts = Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }));
    const res = await raw.request(2, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: parts }] }, 3000);
    return res.topics[0].partitions.every((p: { errorCode: number }) => p.errorCode === 0);
  } finally {
    raw.close();
  }
}

async function assigned(meta: DynamoMetaStore, live: Set<string>, partitions: number): Promise<boolean> {
  const entries = await meta.list<PartitionLeader>('partitions', `${TOPIC}/`);
  return entries.length === partitions && entries.every((e) => e.value.leader !== null && live.has(e.value.leader) && !e.value.handoffTo);
}

export async function runFailover(o: Options): Promise<{ rounds: Round[] }> {
  assertBuilt();
  const infra: ClusterInfra = await startInfra('bench-failover');
  const brokers = new Map<string, Child>();
  let meta: Child | undefined;
  const flags = { 'cluster-lease-ttl-ms': o.ttlMs };
  const store = await infra.meta();
  const leases = watchLeases(store);
  const rounds: Round[] = [];
  try {
    meta = await startMeta(infra, { 'cluster-moves-per-minute': 600, 'log-level': 'info' });
    for (const id of IDS) brokers.set(id, await startBrokerProcess(infra, id, flags));
    const admin = (): number => [...brokers.values()][0].ports.admin;
    const res = await fetch(`http://127.0.0.1:${brokers.get('b1')!.ports.admin}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: TOPIC, partitions: o.partitions }),
    });
    if (res.status !== 201) throw new Error(`topic creation answered ${res.status}`);
    for (let i = 0; i < o.kills; i++) {
      const status = await until(async () => {
        const s = await clusterStatus(admin());
        const ok = s.nodes.length === IDS.length && s.leaderless.length === 0 && s.nodes.every((n) => n.partitions >= 1);
        return ok && s.nodes.reduce((n, b) => n + b.partitions, 0) === o.partitions ? s : undefined;
      }, 60_000, 100);
      const top = [...status.nodes].sort((a, b) => b.partitions - a.partitions || (a.brokerId < b.brokerId ? -1 : 1))[0];
      const victim = top.brokerId;
      const survivor = [...brokers].find(([id]) => id !== victim)![1];
      const killedAt = Date.now();
      brokers.get(victim)!.kill('SIGKILL');
      await brokers.get(victim)!.exited;
      brokers.delete(victim);
      const live = new Set(brokers.keys());
      let assignedAt = 0;
      const servingAt = await until(async () => {
        if (!assignedAt && (await assigned(store, live, o.partitions))) assignedAt = Date.now();
        return assignedAt && (await serving(survivor.ports.kafka, o.partitions)) ? Date.now() : undefined;
      }, o.ttlMs + 30_000, 10);
      const expiry = leases.expiry.get(victim)!;
      const round: Round = {
        victim,
        moved: top.partitions,
        killToExpiryMs: expiry - killedAt,
        assignedMs: assignedAt - expiry,
        servingMs: servingAt - expiry,
        killToServingMs: servingAt - killedAt,
      };
      rounds.push(round);
      o.log(`kill ${i + 1}/${o.kills}: ${victim} (${round.moved} partitions) expiry→assigned ${round.assignedMs} ms, expiry→serving ${round.servingMs} ms`);
      brokers.set(victim, await startBrokerProcess(infra, victim, flags));
    }
  } finally {
    leases.stop();
    for (const b of brokers.values()) b.kill('SIGKILL');
    meta?.kill('SIGKILL');
    await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
    await infra.close();
  }
  return { rounds };
}

function summary(rounds: Round[]): Table {
  const fmt = (n: number | null): string => (n === null ? '-' : String(Math.round(n)));
  const row = (name: string, values: number[]): string[] => [
    name,
    fmt(median(values)),
    fmt(values.length ? Math.max(...values) : null),
    fmt(values.length ? Math.min(...values) : null),
  ];
  return {
    title: `failover over ${rounds.length} kills (ms)`,
    notes: ['from the lease expiry of the killed broker (its last heartbeat + TTL); serving = ListOffsets OK for every partition'],
    columns: ['measure', 'p50', 'max', 'min'],
    rows: [
      row('lease expiry → all assigned', rounds.map((r) => r.assignedMs)),
      row('lease expiry → all serving', rounds.map((r) => r.servingMs)),
      row('kill → all serving', rounds.map((r) => r.killToServingMs)),
    ],
  };
}

export const clusterFailoverSuite: Suite = {
  name: 'cluster-failover',
  description: 'time for every partition of a SIGKILLed broker to be led and served again',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const kills = options.quick ? 3 : 20;
    const { rounds } = await runFailover({ kills, ttlMs: 3000, partitions: 6, log: options.log });
    return { suite: 'cluster-failover', tables: [summary(rounds)], data: { ttlMs: 3000, partitions: 6, rounds }, errors: [] };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, 'ttl-ms': { type: 'string', default: '3000' }, partitions: { type: 'string', default: '6' } } });
  const o: Options = { kills: Number(values.kills), ttlMs: Number(values['ttl-ms']), partitions: Number(values.partitions), log: (m) => process.stderr.write(`${m}\n`) };
  const startedAt = new Date();
  const { rounds } = await runFailover(o);
  const table = summary(rounds);
  process.stdout.write(`${renderTable(table)}\n`);
  const result: SuiteResult = { suite: 'cluster-failover', tables: [table], data: { ttlMs: o.ttlMs, partitions: o.partitions, rounds }, errors: [] };
  process.stdout.write(`results: ${await writeResults(startedAt, { suites: ['cluster-failover'], ...o, log: undefined }, [result])}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`cluster-failover: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
