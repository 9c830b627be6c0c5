/**
 * Cluster failover time: `npx tsx bench/cluster-failover.ts [--kills N] [--ttl-ms N] [--partitions N]
 * [--auth off|on|both]` (after `npm run build`; default both: the same run with brokers under --auth off, then on). Runs dynalite + s3rver, one `robustmq meta` and three `robustmq broker` processes, and a topic,
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
  /** Brokers with --auth on (clients log in, peers authenticate as always). */
  auth: boolean;
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

/** With --auth on: the user the probes log in as (SASL PLAIN), and the admin token the brokers share. */
const BENCH_USER = { name: 'bench', password: 'bench-password-1' };
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * ListOffsets probes of every partition over one connection to a surviving broker, kept open between probes (and
 * authenticated once with --auth on, so a password check is not part of the figure); reopened after a failure.
 */
class Prober {
  private raw: RawKafka | undefined;

  constructor(
    private readonly port: number,
    private readonly auth: boolean,
  ) {}

  async serving(partitions: number): Promise<boolean> {
    try {
      const raw = (this.raw ??= await this.open());
      const parts = Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }));
      const res = await raw.request(2, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: parts }] }, 3000);
      return res.topics[0].partitions.every((p: { errorCode: number }) => p.errorCode === 0);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  close(): void {
    this.raw?.close();
    this.raw = undefined;
  }

  private async open(): Promise<RawKafka> {
    const raw = await RawKafka.connect(this.port);
    if (this.auth) {
      const hs = await raw.request(17, 1, { mechanism: 'PLAIN' });
      if (hs.errorCode !== 0) throw new Error(`SaslHandshake answered ${hs.errorCode}`);
      const token = Buffer.from(`\0${BENCH_USER.name}\0${BENCH_USER.password}`);
      const res = await raw.request(36, 1, { authBytes: token });
      if (res.errorCode !== 0) throw new Error(`SaslAuthenticate answered ${res.errorCode}: ${res.errorMessage}`);
    }
    return raw;
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
  const flags: Record<string, string | number> = { 'cluster-lease-ttl-ms': o.ttlMs, ...(o.auth ? { auth: 'on', 'admin-token': ADMIN_TOKEN } : {}) };
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(o.auth ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) };
  const token = o.auth ? ADMIN_TOKEN : undefined;
  const store = await infra.meta();
  const leases = watchLeases(store);
  const rounds: Round[] = [];
  try {
    meta = await startMeta(infra, { 'cluster-moves-per-minute': 600, 'log-level': 'info' });
    for (const id of IDS) brokers.set(id, await startBrokerProcess(infra, id, flags));
    const admin = (): number => [...brokers.values()][0].ports.admin;
    if (o.auth) {
      const user = await fetch(`http://127.0.0.1:${brokers.get('b1')!.ports.admin}/api/v1/users`, { method: 'POST', headers, body: JSON.stringify(BENCH_USER) });
      if (user.status !== 201) throw new Error(`user creation answered ${user.status}`);
    }
    const res = await fetch(`http://127.0.0.1:${brokers.get('b1')!.ports.admin}/api/v1/topics`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: TOPIC, partitions: o.partitions }),
    });
    if (res.status !== 201) throw new Error(`topic creation answered ${res.status}`);
    for (let i = 0; i < o.kills; i++) {
      const status = await until(async () => {
        const s = await clusterStatus(admin(), token);
        const ok = s.nodes.length === IDS.length && s.leaderless.length === 0 && s.nodes.every((n) => n.partitions >= 1);
        return ok && s.nodes.reduce((n, b) => n + b.partitions, 0) === o.partitions ? s : undefined;
      }, 60_000, 100);
      const top = [...status.nodes].sort((a, b) => b.partitions - a.partitions || (a.brokerId < b.brokerId ? -1 : 1))[0];
      const victim = top.brokerId;
      const survivor = [...brokers].find(([id]) => id !== victim)![1];
      const prober = new Prober(survivor.ports.kafka, o.auth);
      await until(() => prober.serving(o.partitions).then((ok) => (ok ? true : undefined)), 30_000, 50);
      const killedAt = Date.now();
      brokers.get(victim)!.kill('SIGKILL');
      await brokers.get(victim)!.exited;
      brokers.delete(victim);
      const live = new Set(brokers.keys());
      let assignedAt = 0;
      const servingAt = await until(async () => {
        if (!assignedAt && (await assigned(store, live, o.partitions))) assignedAt = Date.now();
        return assignedAt && (await prober.serving(o.partitions)) ? Date.now() : undefined;
      }, o.ttlMs + 30_000, 10).finally(() => prober.close());
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

const MEASURES: Array<[string, (r: Round) => number]> = [
  ['lease expiry → all assigned', (r) => r.assignedMs],
  ['lease expiry → all serving', (r) => r.servingMs],
  ['kill → all serving', (r) => r.killToServingMs],
];

/** One column group per mode run (auth off, auth on), and the on/off ratio of the medians when both ran. */
function summary(runs: Array<{ auth: boolean; rounds: Round[] }>): Table {
  const fmt = (n: number | null): string => (n === null ? '-' : String(Math.round(n)));
  const off = runs.find((r) => !r.auth);
  const on = runs.find((r) => r.auth);
  const columns = ['measure'];
  for (const run of runs) {
    const mode = run.auth ? 'auth on' : 'auth off';
    columns.push(`${mode} p50`, `${mode} max`, `${mode} min`);
  }
  if (off && on) columns.push('on/off p50');
  const rows = MEASURES.map(([name, of]) => {
    const row = [name];
    for (const run of runs) {
      const values = run.rounds.map(of);
      row.push(fmt(median(values)), fmt(values.length ? Math.max(...values) : null), fmt(values.length ? Math.min(...values) : null));
    }
    if (off && on) {
      const a = median(off.rounds.map(of));
      const b = median(on.rounds.map(of));
      row.push(a && b !== null ? (b / a).toFixed(2) : '-');
    }
    return row;
  });
  return {
    title: `failover over ${runs.map((r) => `${r.rounds.length} kills (auth ${r.auth ? 'on' : 'off'})`).join(' and ')}, ms`,
    notes: [
      'from the lease expiry of the killed broker (its last heartbeat + TTL); serving = ListOffsets OK for every partition',
      'auth on: brokers with --auth on (probes log in once per connection); peers authenticate with the cluster secret in both modes',
    ],
    columns,
    rows,
  };
}

type Modes = 'off' | 'on' | 'both';

async function runModes(modes: Modes, o: Omit<Options, 'auth'>): Promise<Array<{ auth: boolean; rounds: Round[] }>> {
  const out: Array<{ auth: boolean; rounds: Round[] }> = [];
  for (const auth of modes === 'both' ? [false, true] : [modes === 'on']) {
    o.log(`--- auth ${auth ? 'on' : 'off'}`);
    out.push({ auth, rounds: (await runFailover({ ...o, auth })).rounds });
  }
  return out;
}

export const clusterFailoverSuite: Suite = {
  name: 'cluster-failover',
  description: 'time for every partition of a SIGKILLed broker to be led and served again, with auth off and on',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const kills = options.quick ? 3 : 20;
    const runs = await runModes('both', { kills, ttlMs: 3000, partitions: 6, log: options.log });
    return { suite: 'cluster-failover', tables: [summary(runs)], data: { ttlMs: 3000, partitions: 6, runs }, errors: [] };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '20' },
      'ttl-ms': { type: 'string', default: '3000' },
      partitions: { type: 'string', default: '6' },
      auth: { type: 'string', default: 'both' },
    },
  });
  const modes = values.auth as Modes;
  if (!['off', 'on', 'both'].includes(modes)) throw new Error('--auth must be off, on or both');
  const o = { kills: Number(values.kills), ttlMs: Number(values['ttl-ms']), partitions: Number(values.partitions), log: (m: string) => process.stderr.write(`${m}\n`) };
  const startedAt = new Date();
  const runs = await runModes(modes, o);
  const table = summary(runs);
  process.stdout.write(`${renderTable(table)}\n`);
  const result: SuiteResult = { suite: 'cluster-failover', tables: [table], data: { ttlMs: o.ttlMs, partitions: o.partitions, runs }, errors: [] };
  process.stdout.write(`results: ${await writeResults(startedAt, { suites: ['cluster-failover'], ...o, auth: modes, log: undefined }, [result])}\n`);
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
