/**
 * Login floods: `npx tsx bench/login-flood.ts [--attempts N] [--concurrency N] [--probes N] [--rounds N]` (after
 * `npm run build`). For MQTT and Kafka (SASL/PLAIN), with the login guard at its default (--auth-max-failures 10)
 * and off (0): starts a node with --auth on as a child process (dist/, memory storage), floods N wrong passwords from
 * 127.0.0.1 over raw sockets (`--concurrency` at once) from a second child process (this file with --flood-worker,
 * so the flood's client work does not delay the runner's own logins), and meanwhile logs in with the right password
 * from 127.0.0.2 again and again (mqtt.js; kafkajs PLAIN, which is checked with scrypt like the flood). Measured:
 *  - flood wall time, from the first attempt to the last answer;
 *  - the node's CPU seconds over that time (/proc utime + stime of the child);
 *  - latency of the correct logins from the other address during the flood (p50, max), and before it (idle p50);
 *  - password checks run (robustmq_auth_failures_total) and attempts refused unchecked (robustmq_auth_refused_total).
 * Each (protocol, guard) pair gets a fresh node per round; tables show the median of the rounds. Prints a table and
 * writes bench/results/<timestamp>.json. Exports `loginFloodSuite` for bench/run.ts.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { assertBuilt } from '../test/helpers/cli.js';
import { flood, kafkajsFrom, kafkaPlainLogin, metricValue, mqttClientFrom, mqttConnectCode } from '../test/helpers/login-guard.js';
import { startRobustMQ, type RobustMQHandle } from './lib/mqtt-brokers.js';
import { CLOCK_TICKS, cpuTicks, forkChild, nextMessage, stopChild, waitForPort } from './lib/proc.js';
import { writeResults } from './lib/results.js';
import { median } from './lib/stats.js';
import type { Suite, SuiteOptions, SuiteResult } from './lib/suite.js';
import { renderTable, type Table } from './lib/table.js';

const TOKEN = 'login-flood-bench-admin-token';
const USER = 'alice';
const PASSWORD = 'alice-correct-password';
const OTHER_ADDRESS = '127.0.0.2';

type Protocol = 'mqtt' | 'kafka';

interface Options {
  readonly attempts: number;
  readonly concurrency: number;
  /** Correct logins from the other address at least (more while the flood lasts). */
  readonly probes: number;
  readonly rounds: number;
  log(message: string): void;
}

interface Run {
  readonly protocol: Protocol;
  readonly maxFailures: number;
  readonly floodMs: number;
  readonly cpuSeconds: number;
  readonly checked: number;
  readonly refused: number;
  /** Attempts that got no answer (closed or timed out): should be 0. */
  readonly unanswered: number;
  readonly probeMs: number[];
  readonly idleMs: number[];
}

interface WorkerConfig {
  readonly protocol: Protocol;
  readonly ports: Record<string, number>;
  readonly attempts: number;
  readonly concurrency: number;
}

const IDLE_PROBES = 5;

async function startNode(maxFailures: number): Promise<RobustMQHandle> {
  // logLevel error: the refusals' per-connection lines would otherwise go to this process's stderr by the thousand.
  const handle = await startRobustMQ({ auth: 'on', adminToken: TOKEN, authMaxFailures: maxFailures, logLevel: 'error' });
  await waitForPort(handle.ports.kafka, 5_000);
  const res = await fetch(`http://127.0.0.1:${handle.ports.admin}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: USER, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`creating the user: HTTP ${res.status} ${await res.text()}`);
  return handle;
}

/** One correct login from the other address; its latency in ms. */
async function correctLogin(protocol: Protocol, handle: RobustMQHandle): Promise<number> {
  const started = performance.now();
  if (protocol === 'mqtt') {
    const client = await mqttClientFrom(OTHER_ADDRESS, handle.ports.mqtt, { protocolVersion: 4, username: USER, password: PASSWORD, connectTimeout: 120_000 });
    const ms = performance.now() - started;
    client.end(true);
    return ms;
  }
  const admin = kafkajsFrom(OTHER_ADDRESS, handle.ports.kafka, { mechanism: 'plain', username: USER, password: PASSWORD }).admin();
  try {
    await admin.connect();
    return performance.now() - started;
  } finally {
    await admin.disconnect();
  }
}

/** A wrong password from 127.0.0.1; whether it was answered (CONNACK / SaslAuthenticate response). */
async function wrongLogin({ protocol, ports }: WorkerConfig, i: number): Promise<boolean> {
  if (protocol === 'mqtt') return (await mqttConnectCode({ port: ports.mqtt, version: 4, username: USER, password: `wrong-${i}` }, 300_000)) !== null;
  return (await kafkaPlainLogin(ports.kafka, USER, `wrong-${i}`, '127.0.0.1', 300_000)) !== null;
}

/** The flood process: 'ready', then on 'go' the flood, then 'done' with its wall time. */
function floodWorker(config: WorkerConfig): void {
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'go') return;
    const started = performance.now();
    flood(config.attempts, config.concurrency, (i) => wrongLogin(config, i)).then(
      (answered) => process.send?.({ type: 'done', floodMs: performance.now() - started, unanswered: answered.filter((a) => !a).length }),
      (err: Error) => process.send?.({ type: 'error', message: err.message }),
    );
  });
  process.send?.({ type: 'ready' });
}

async function measure(protocol: Protocol, maxFailures: number, o: Options): Promise<Run> {
  const handle = await startNode(maxFailures);
  const config: WorkerConfig = { protocol, ports: handle.ports, attempts: o.attempts, concurrency: o.concurrency };
  const worker = forkChild('../login-flood.ts', ['--flood-worker', JSON.stringify(config)]);
  try {
    await correctLogin(protocol, handle); // untimed: connections, JIT, the first scrypt
    const idleMs: number[] = [];
    for (let i = 0; i < IDLE_PROBES; i++) idleMs.push(await correctLogin(protocol, handle));
    const metric = (name: string) => metricValue(handle.ports.admin, name, protocol);
    const checkedBefore = await metric('robustmq_auth_failures_total');
    const refusedBefore = await metric('robustmq_auth_refused_total');
    await nextMessage(worker, 'ready');
    const ticksBefore = cpuTicks(handle.pid);
    let ticksAfter = 0;
    worker.send({ type: 'go' });
    const done = nextMessage<{ type: string; floodMs: number; unanswered: number }>(worker, 'done', 600_000).finally(() => {
      ticksAfter = cpuTicks(handle.pid);
    });
    done.catch(() => undefined);
    const probeMs: number[] = [];
    do probeMs.push(await correctLogin(protocol, handle));
    while (ticksAfter === 0 || probeMs.length < o.probes);
    const { floodMs, unanswered } = await done;
    const cpuSeconds = (ticksAfter - ticksBefore) / CLOCK_TICKS;
    const checked = (await metric('robustmq_auth_failures_total')) - checkedBefore;
    const refused = (await metric('robustmq_auth_refused_total')) - refusedBefore;
    return { protocol, maxFailures, floodMs, cpuSeconds, checked, refused, unanswered, probeMs, idleMs };
  } finally {
    await stopChild(worker);
    await handle.stop();
  }
}

async function runAll(o: Options): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const protocol of ['mqtt', 'kafka'] as const) {
      for (const maxFailures of [10, 0]) {
        o.log(`round ${round}: ${protocol}, --auth-max-failures ${maxFailures}: ${o.attempts} wrong passwords, ${o.concurrency} at once`);
        const run = await measure(protocol, maxFailures, o);
        o.log(`  flood ${(run.floodMs / 1000).toFixed(2)} s, node CPU ${run.cpuSeconds.toFixed(2)} s, ${run.probeMs.length} correct logins, max ${Math.round(Math.max(...run.probeMs))} ms`);
        runs.push(run);
      }
    }
  }
  return runs;
}

const p50 = (values: number[]): number => median(values) ?? NaN;

function summary(runs: Run[], o: Options): Table {
  const rows: string[][] = [];
  for (const protocol of ['mqtt', 'kafka'] as const) {
    for (const maxFailures of [10, 0]) {
      const same = runs.filter((r) => r.protocol === protocol && r.maxFailures === maxFailures);
      if (same.length === 0) continue;
      const probes = same.flatMap((r) => r.probeMs);
      rows.push([
        protocol,
        maxFailures === 0 ? 'off (0)' : `on (${maxFailures})`,
        (p50(same.map((r) => r.floodMs)) / 1000).toFixed(2),
        p50(same.map((r) => r.cpuSeconds)).toFixed(2),
        String(p50(same.map((r) => r.checked))),
        String(p50(same.map((r) => r.refused))),
        String(Math.round(p50(same.flatMap((r) => r.idleMs)))),
        String(Math.round(p50(probes))),
        String(Math.round(Math.max(...probes))),
        String(probes.length),
      ]);
    }
  }
  return {
    title: `Login flood: ${o.attempts} wrong passwords from 127.0.0.1 (${o.concurrency} at once), correct logins from ${OTHER_ADDRESS} meanwhile`,
    columns: ['protocol', 'guard', 'flood s', 'node CPU s', 'checked', 'refused', 'idle login p50 ms', 'login p50 ms', 'login max ms', 'logins'],
    rows,
    notes: [
      `median of ${o.rounds} round(s); a fresh node (--auth on, memory storage, dist/) per row and round`,
      'checked: password checks run (robustmq_auth_failures_total); refused: answered without a check (robustmq_auth_refused_total)',
      'node CPU: utime + stime of the node process from the first attempt to the last answer, scrypt threads included',
      'logins: MQTT mqtt.js 3.1.1; Kafka kafkajs SASL/PLAIN (checked with scrypt, as the flood is); one after another during',
      `the flood (at least --probes, the last ones after it if it was over sooner), all rounds pooled; idle: ${IDLE_PROBES} before it`,
      `unanswered attempts: ${runs.reduce((n, r) => n + r.unanswered, 0)}`,
    ],
  };
}

export const loginFloodSuite: Suite = {
  name: 'login-flood',
  description: 'CPU and other clients\' login latency under a wrong-password flood from one address, guard on and off',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const o: Options = { attempts: options.quick ? 300 : 1000, concurrency: 100, probes: 5, rounds: options.quick ? 1 : options.rounds, log: options.log };
    const runs = await runAll(o);
    return { suite: 'login-flood', tables: [summary(runs, o)], data: { ...o, log: undefined, runs }, errors: [] };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      attempts: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '100' },
      probes: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
    },
  });
  assertBuilt();
  const o: Options = {
    attempts: Number(values.attempts),
    concurrency: Number(values.concurrency),
    probes: Number(values.probes),
    rounds: Number(values.rounds),
    log: (m: string) => process.stderr.write(`${m}\n`),
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && !(Number.isInteger(v) && v > 0)) throw new Error(`--${k} must be a positive integer`);
  const startedAt = new Date();
  const runs = await runAll(o);
  const table = summary(runs, o);
  process.stdout.write(`${renderTable(table)}\n`);
  const result: SuiteResult = { suite: 'login-flood', tables: [table], data: { ...o, log: undefined, runs }, errors: [] };
  process.stdout.write(`results: ${await writeResults(startedAt, { suites: ['login-flood'], ...o, log: undefined }, [result])}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--flood-worker') {
  floodWorker(JSON.parse(process.argv[3] ?? '{}') as WorkerConfig);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`login-flood: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
