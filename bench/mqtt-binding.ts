/**
 * What a cross-protocol binding costs MQTT publishers: QoS 0 and QoS 1 publish throughput to a topic bound to a
 * Kafka topic (every PUBLISH appended to its log; QoS 1 delivered after that, QoS 0 as it arrives) against an
 * unbound topic, on the same broker process in the same run, rounds alternating which goes first. Target (issue):
 * bound >= 70% of unbound.
 * `npx tsx bench/mqtt-binding.ts [--duration S] [--rounds N] [--storage segment|memory] [--quick]` (needs `npm run
 * build`: the broker runs from dist/ like in the MQTT suite).
 *
 * Load: the MQTT suite's generator (bench/lib/mqtt-*) — QoS 0: 8 publishers write as fast as the broker reads,
 * 1 subscriber on the wildcard; QoS 1: 4 publishers with 100 messages in flight each, 1 subscriber. 64-byte
 * payloads. The bound topic has 4 partitions on the given engine (segment: the node's default flush policy, fsync
 * per append), with retention keeping the disk in check.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startRobustMQ, type RobustMQHandle } from './lib/mqtt-brokers.js';
import type { ClientGroup } from './lib/mqtt-protocol.js';
import { runScenario, type RunTiming, type Scenario, type ScenarioMeasure } from './lib/mqtt-run.js';
import { formatCount, formatPercent, median, ratio } from './lib/stats.js';
import { errorMessage, type Suite, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { renderTable, type Table } from './lib/table.js';

const PAYLOAD = 64;
const PARTITIONS = 4;
/** Bound throughput must stay at or above this share of unbound throughput. */
export const TARGET = 0.7;

type Variant = 'unbound' | 'bound';
type Kind = 'qos0' | 'qos1';

const group = (role: ClientGroup['role'], count: number, prefix: string, topic: string, qos: 0 | 1, inflight = 0): ClientGroup => ({
  role,
  count,
  clientIdPrefix: prefix,
  topic,
  qos,
  payloadBytes: PAYLOAD,
  inflight,
});

/** Topics of the load generator must start with `bench/`; the bound ones live under `bench/bound/`. */
function scenario(kind: Kind, variant: Variant): Scenario {
  const base = `bench/${variant === 'bound' ? 'bound' : 'free'}/${kind}`;
  const id = `${kind}-${variant}`;
  if (kind === 'qos0') {
    return {
      id,
      title: `QoS 0, ${variant}`,
      groups: [group('sub', 1, `${id}-sub-`, `${base}/#`, 0), group('pub', 8, `${id}-pub-`, `${base}/{i}`, 0)],
      fanout: 1,
    };
  }
  return {
    id,
    title: `QoS 1, ${variant}`,
    groups: [group('sub', 1, `${id}-sub-`, `${base}/#`, 1), group('pub', 4, `${id}-pub-`, `${base}/{i}`, 1, 100)],
    fanout: 1,
  };
}

/** Publish throughput: what the broker took in (QoS 0) or acknowledged (QoS 1). */
const throughput = (kind: Kind, m: ScenarioMeasure): number => (kind === 'qos0' ? m.publishedPerSec : m.ackedPerSec);

export interface BindingBenchOptions {
  durationMs: number;
  warmupMs: number;
  rounds: number;
  storage: 'segment' | 'memory';
  log(message: string): void;
}

async function createBoundTopic(broker: RobustMQHandle, storage: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${broker.ports.admin}/api/v1/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-bound', partitions: PARTITIONS, storage, mqttBindings: ['bench/bound/#'], retentionBytes: 64 * 1024 * 1024 }),
  });
  if (!res.ok) throw new Error(`creating the bound topic failed: ${res.status} ${await res.text()}`);
}

export async function runBindingBench(o: BindingBenchOptions): Promise<SuiteResult> {
  const errors: string[] = [];
  const samples = new Map<string, ScenarioMeasure[]>();
  const timing: RunTiming = { warmupMs: o.warmupMs, durationMs: o.durationMs, generatorProcesses: 1 };
  const broker = await startRobustMQ({ storage: o.storage, retentionCheckMs: 2000, segmentBytes: 16 * 1024 * 1024, mqttSysIntervalMs: 0 });
  try {
    if (!broker.port) throw new Error('MQTT listener not available');
    await createBoundTopic(broker, o.storage);
    for (let r = 0; r < o.rounds; r++) {
      for (const kind of ['qos0', 'qos1'] as const) {
        const order: Variant[] = r % 2 === 0 ? ['unbound', 'bound'] : ['bound', 'unbound'];
        for (const variant of order) {
          const s = scenario(kind, variant);
          o.log(`mqtt-binding round ${r + 1}/${o.rounds}: ${s.title} (${o.storage})`);
          try {
            const m = await runScenario(broker.port, broker.pid, s, timing);
            if (m.malformed > 0) errors.push(`${s.id}: ${m.malformed} malformed PUBLISH packets received`);
            if (m.lostConnections > 0) errors.push(`${s.id}: ${m.lostConnections} connections lost`);
            samples.set(s.id, [...(samples.get(s.id) ?? []), m]);
            o.log(`  publish ${formatCount(throughput(kind, m))}/s, delivered ${formatCount(m.deliveredPerSec)}/s, broker CPU ${formatPercent(m.brokerCores)}`);
          } catch (err) {
            errors.push(`${s.id}: ${errorMessage(err)}`);
          }
        }
      }
    }
  } finally {
    await broker.stop();
  }
  const med = (id: string, pick: (m: ScenarioMeasure) => number | null): number | null =>
    median((samples.get(id) ?? []).map(pick).filter((v): v is number => v !== null));
  const rows: string[][] = [];
  const data: Record<string, unknown> = { storage: o.storage, rounds: o.rounds, timing, payloadBytes: PAYLOAD, partitions: PARTITIONS, target: TARGET };
  for (const kind of ['qos0', 'qos1'] as const) {
    const free = med(`${kind}-unbound`, (m) => throughput(kind, m));
    const bound = med(`${kind}-bound`, (m) => throughput(kind, m));
    const share = ratio(bound, free);
    if (share !== null && share < TARGET) errors.push(`${kind}: bound throughput is ${formatPercent(share)} of unbound (target >= ${formatPercent(TARGET)})`);
    for (const variant of ['unbound', 'bound'] as const) {
      const id = `${kind}-${variant}`;
      rows.push([
        id,
        formatCount(med(id, (m) => throughput(kind, m))),
        formatCount(med(id, (m) => m.deliveredPerSec)),
        formatPercent(med(id, (m) => m.brokerCores)),
        variant === 'bound' ? formatPercent(share) : '',
      ]);
    }
    data[kind] = { unboundPerSec: free, boundPerSec: bound, boundShare: share, samples: { unbound: samples.get(`${kind}-unbound`), bound: samples.get(`${kind}-bound`) } };
  }
  const table: Table = {
    title: `MQTT publish throughput to a bound topic vs an unbound one (${o.storage} engine, ${PARTITIONS} partitions, median of ${o.rounds})`,
    columns: ['scenario', 'publish/s', 'delivered/s', 'broker CPU', 'bound/unbound'],
    rows,
    notes: [
      `target: bound >= ${formatPercent(TARGET)} of unbound; publish/s = read by the broker (QoS 0) or acknowledged (QoS 1)`,
      'QoS 0: 8 publishers -> 1 subscriber on the wildcard; QoS 1: 4 publishers x 100 in flight -> 1 subscriber; 64-byte payloads',
      'bound: every PUBLISH is appended to the Kafka topic (per partition, batches of 64 KiB or one event-loop turn,',
      '  larger while appends are in flight); QoS 0 is delivered as it arrives, QoS 1 after its append is durable',
      '  (and PUBACK then)',
    ],
  };
  return { suite: 'mqtt-binding', tables: [table], data, errors };
}

export const mqttBindingSuite: Suite = {
  name: 'mqtt-binding',
  description: 'MQTT publish throughput to a topic bound to a Kafka topic vs an unbound one',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    const storages = (options.only ?? []).filter((s): s is 'segment' | 'memory' => s === 'segment' || s === 'memory');
    const results: SuiteResult[] = [];
    for (const storage of storages.length > 0 ? storages : (['segment', 'memory'] as const)) {
      try {
        results.push(await runBindingBench({ durationMs: options.durationMs, warmupMs: options.warmupMs, rounds: options.rounds, storage, log: options.log }));
      } catch (err) {
        results.push({ suite: 'mqtt-binding', tables: [], data: { storage }, errors: [`${storage}: ${errorMessage(err)}`] });
      }
    }
    return {
      suite: 'mqtt-binding',
      tables: results.flatMap((r) => r.tables),
      data: Object.fromEntries(results.map((r) => [r.data.storage as string, r.data])),
      errors: results.flatMap((r) => r.errors),
    };
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      storage: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const storage = values.storage ?? 'segment';
  if (storage !== 'segment' && storage !== 'memory') throw new Error('--storage must be segment or memory');
  const result = await runBindingBench({
    durationMs: Number(values.duration ?? (values.quick ? 2 : 5)) * 1000,
    warmupMs: 1000,
    rounds: Number(values.rounds ?? (values.quick ? 1 : 3)),
    storage,
    log: (m) => process.stderr.write(`# ${m}\n`),
  });
  for (const t of result.tables) console.log(`${renderTable(t)}\n`);
  for (const e of result.errors) console.error(`error: ${e}`);
  if (result.errors.length > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
