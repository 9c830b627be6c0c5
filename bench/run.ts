/**
 * `npm run bench [-- SUITE... [--duration S] [--warmup S] [--rounds N] [--quick] [--only a,b] [--idle-clients N]
 * [--generators 1|2]]`. Runs the suites (all by default), prints a table per measurement and writes
 * bench/results/<timestamp>.json. Figures are ratios to peers or to the machine's own ceiling measured in the same
 * run, because this machine is shared and absolute numbers drift.
 */
import { parseArgs } from 'node:util';
import { kafkaSuite } from './kafka.js';
import { externalSuite } from './lib/external-suite.js';
import { writeResults } from './lib/results.js';
import { errorMessage, type Suite, type SuiteOptions, type SuiteResult } from './lib/suite.js';
import { renderTable } from './lib/table.js';
import { mqttSuite } from './mqtt.js';

const USAGE = `usage: npm run bench -- [mqtt|kafka|storage|storage-s3|cluster-failover|mqtt-binding|login-flood ...] [options]
  --duration S      measured window per scenario (default 5, --quick 2)
  --warmup S        traffic before the window (default 1)
  --rounds N        repetitions of MQTT and Kafka runs, tables show the median (default 3, --quick 1)
  --quick           smaller loads, for a smoke run
  --only a,b        MQTT brokers (robustmq, aedes, mosquitto) and/or scenarios (fan-in-qos0, fan-out-qos0, qos1);
                    mqtt-binding: storage engines (segment, memory)
  --idle-clients N  MQTT idle connections for the memory figure (default 10000, --quick 1000)
  --generators 1|2  MQTT load-generator processes (default 1; 2 puts publishers apart from subscribers)`;

function suites(): Suite[] {
  const list: Suite[] = [mqttSuite, kafkaSuite];
  const storage = externalSuite('storage', 'bench/storage-segment.ts', 'segment storage engine');
  if (storage) list.push(storage);
  const s3 = externalSuite('storage-s3', 'bench/storage-s3.ts', 'S3 storage engine (s3rver, counted requests)');
  if (s3) list.push(s3);
  const failover = externalSuite('cluster-failover', 'bench/cluster-failover.ts', 'cluster failover time over repeated broker kills');
  if (failover) list.push(failover);
  const binding = externalSuite('mqtt-binding', 'bench/mqtt-binding.ts', 'MQTT publish throughput, bound topic vs unbound');
  if (binding) list.push(binding);
  const flood = externalSuite('login-flood', 'bench/login-flood.ts', 'a flood of wrong passwords from one address, with and without the login guard');
  if (flood) list.push(flood);
  return list;
}

function positive(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got '${value}'`);
  return n;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'idle-clients': { type: 'string' },
      generators: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const available = suites();
  const wanted = positionals.length > 0 ? positionals : available.map((s) => s.name);
  const unknown = wanted.filter((w) => !available.some((s) => s.name === w));
  if (unknown.length > 0) {
    const missing = unknown.includes('storage') ? ' (bench/storage-segment.ts does not exist yet)' : '';
    throw new Error(`unknown suite ${unknown.join(', ')}${missing}; available: ${available.map((s) => s.name).join(', ')}`);
  }
  const quick = values.quick ?? false;
  const generators = positive(values.generators, 1, '--generators');
  if (generators !== 1 && generators !== 2) throw new Error('--generators must be 1 or 2');
  const options: SuiteOptions = {
    durationMs: positive(values.duration, quick ? 2 : 5, '--duration') * 1000,
    warmupMs: positive(values.warmup, 1, '--warmup') * 1000,
    rounds: Math.round(positive(values.rounds, quick ? 1 : 3, '--rounds')),
    quick,
    only: values.only?.split(',').map((s) => s.trim()).filter(Boolean),
    idleClients: values['idle-clients'] ? Math.round(positive(values['idle-clients'], 0, '--idle-clients')) : undefined,
    generatorProcesses: generators,
    log: (message) => process.stderr.write(`${message}\n`),
  };

  const startedAt = new Date();
  const results: SuiteResult[] = [];
  for (const suite of available.filter((s) => wanted.includes(s.name))) {
    options.log(`== ${suite.name}: ${suite.description}`);
    let result: SuiteResult;
    try {
      result = await suite.run(options);
    } catch (err) {
      result = { suite: suite.name, tables: [], data: {}, errors: [errorMessage(err)] };
    }
    results.push(result);
    process.stdout.write(`\n## ${suite.name}\n`);
    for (const table of result.tables) process.stdout.write(`\n${renderTable(table)}\n`);
    for (const error of result.errors) process.stdout.write(`! ${error}\n`);
  }
  const { log: _log, ...recorded } = options;
  const file = await writeResults(startedAt, { suites: wanted, ...recorded }, results);
  process.stdout.write(`\nresults: ${file}\n`);
  return results.some((r) => r.errors.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${errorMessage(err)}\n${USAGE}\n`);
    process.exit(2);
  },
);
