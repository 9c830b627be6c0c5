/**
 * S3 storage engine: request cost and produce latency under steady load, against s3rver behind a counting proxy
 * that adds latency to every S3 call. `npx tsx bench/storage-s3.ts [--seconds N] [--s3-latency-ms N]
 * [--meta-latency-ms N] [--flush-ms N] [--quick]`.
 *
 * Targets (issue): S3 PUTs per broker per second <= 1 / flush interval (+ compaction), and MetaStore writes per
 * flush <= 2, both independent of the partition and producer count; produce latency p50/p99 with 30 ms added to
 * every S3 call; the monthly S3 + DynamoDB request cost at AWS list prices.
 *
 * Load is open-loop (appends are sent at a fixed rate whatever the latency, like many independent producers),
 * one 100-byte record per append, spread round-robin over the partitions. Metadata is the embedded store (fsync per
 * commit); `--meta-latency-ms` adds a delay to every MetaStore call to stand in for DynamoDB.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EmbeddedMetaStore } from '../runtime/meta/embedded/store.js';
import type { Change, DeleteOptions, Entry, MetaStore, Namespace, PutOptions, TransactOp } from '../runtime/meta/store.js';
import type { LogConfig, PartitionLog } from '../runtime/storage/engine.js';
import { encodeRecordBatch } from '../runtime/storage/record-batch.js';
import { S3StorageEngine } from '../runtime/storage/s3/engine.js';
import { tempDir } from '../test/helpers/batches.js';
import { startFaultProxy, type FaultProxy } from '../test/helpers/fault-proxy.js';
import { startS3rver, type TestS3 } from '../test/helpers/s3rver.js';
import type { Suite, SuiteOptions, SuiteResult } from './lib/suite.js';
import { renderTable, type Table } from './lib/table.js';

/**
 * AWS list prices, us-east-1, standard tiers, as published on aws.amazon.com/s3/pricing and
 * aws.amazon.com/dynamodb/pricing/on-demand: S3 Standard requests (unchanged for years) and DynamoDB on-demand
 * after the price reduction effective 2024-11-01, valid as of 2025 (re-check before relying on them). DynamoDB bills
 * a transactional write 2 WRU per KB of each item in it, condition checks included.
 */
export const PRICES = {
  date: 'in effect since 2024-11-01, us-east-1',
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  dynamoWruPerMillion: 0.625,
  dynamoRruPerMillion: 0.125,
} as const;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };

/**
 * Counts MetaStore writes and the DynamoDB write units they would cost (1 WRU per KB of the item written, or of the
 * item deleted; twice that inside a transaction, condition checks included); optionally delays every call.
 */
class MeteredMeta implements MetaStore {
  readonly kind = 'embedded' as const;
  writes = 0;
  wru = 0;
  /** Bytes of the latest object entry written. */
  lastEntryBytes = 0;
  constructor(
    private readonly inner: MetaStore,
    private readonly latencyMs: number,
  ) {}
  private async delay(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
  }
  /** Approximate DynamoDB item size: key, JSON value, and ~100 bytes of attribute names, version and write id. */
  private static bytes(key: string, value: unknown): number {
    return key.length + JSON.stringify(value ?? null).length + 100;
  }
  private async stored(ns: Namespace, key: string): Promise<number> {
    const entry = await this.inner.get(ns, key);
    return entry ? MeteredMeta.bytes(key, entry.value) : 0;
  }
  async get<T>(ns: Namespace, key: string): Promise<Entry<T> | undefined> {
    await this.delay();
    return this.inner.get<T>(ns, key);
  }
  async list<T>(ns: Namespace, prefix?: string): Promise<Entry<T>[]> {
    await this.delay();
    return this.inner.list<T>(ns, prefix);
  }
  async put<T>(ns: Namespace, key: string, value: T, options?: PutOptions): Promise<Entry<T>> {
    await this.delay();
    this.writes++;
    this.wru += Math.ceil(MeteredMeta.bytes(key, value) / 1024);
    return this.inner.put(ns, key, value, options);
  }
  async delete(ns: Namespace, key: string, options?: DeleteOptions): Promise<boolean> {
    await this.delay();
    this.writes++;
    this.wru += Math.max(1, Math.ceil((await this.stored(ns, key)) / 1024));
    return this.inner.delete(ns, key, options);
  }
  async transact(ops: TransactOp[]): Promise<void> {
    await this.delay();
    this.writes++;
    for (const op of ops) {
      const bytes = op.op === 'put' ? MeteredMeta.bytes(op.key, op.value) : await this.stored(op.ns, op.key);
      if (op.op === 'put' && op.ns === 's3-objects') this.lastEntryBytes = bytes;
      this.wru += 2 * Math.max(1, Math.ceil(bytes / 1024));
    }
    return this.inner.transact(ops);
  }
  watch<T>(ns: Namespace, listener: (change: Change<T>) => void): () => void {
    return this.inner.watch(ns, listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Settings {
  seconds: number;
  warmupSeconds: number;
  s3LatencyMs: number;
  metaLatencyMs: number;
  flushMs: number;
  log(message: string): void;
}

interface Row {
  partitions: number;
  appendsPerSec: number;
  acked: number;
  failed: number;
  putsPerSec: number;
  flushesPerSec: number;
  putsPerFlush: number;
  metaWritesPerFlush: number;
  entryKB: number;
  commitWruPerFlush: number;
  /** Compaction and collection, per object written: S3 requests and WRU. */
  later: { gets: number; puts: number; wru: number };
  p50: number;
  p99: number;
  monthlyS3: number;
  monthlyDynamo: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Appends at `rate` per second, round-robin over `logs`: `warmupMs`, then a measured window of `windowMs` whose
 * start and end are reported to `atWindow`. Resolves once every append sent has settled.
 */
async function load(logs: PartitionLog[], rate: number, warmupMs: number, windowMs: number, atWindow: (phase: 'start' | 'end') => void) {
  const value = Buffer.alloc(100, 0x61);
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let failed = 0;
  let measuring = false;
  const send = (): void => {
    const started = performance.now();
    const counted = measuring;
    const p = logs[sent++ % logs.length].append(encodeRecordBatch([{ value }])).then(
      () => void (counted && latencies.push(performance.now() - started)),
      () => void (counted && failed++),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  // Open loop: whatever the timer's jitter, the number sent follows the clock.
  const origin = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - origin) * rate) / 1000);
    while (sent < due) send();
  }, 5);
  await new Promise((r) => setTimeout(r, warmupMs));
  const sentBefore = sent;
  atWindow('start');
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  measuring = false;
  atWindow('end');
  const seconds = (performance.now() - started) / 1000;
  const appendsPerSec = (sent - sentBefore) / seconds;
  clearInterval(timer);
  await Promise.all([...pending]);
  return { latencies: latencies.sort((a, b) => a - b), failed, seconds, appendsPerSec };
}

async function scenario(s3: TestS3, proxy: FaultProxy, partitions: number, rate: number, s: Settings): Promise<Row> {
  const dir = await tempDir('robustmq-bench-s3-');
  const meta = new MeteredMeta(await EmbeddedMetaStore.open(path.join(dir, 'meta')), s.metaLatencyMs);
  const engine = new S3StorageEngine({
    bucket: s3.bucket,
    prefix: `bench/${path.basename(dir)}`,
    ...s3.clientOptions,
    endpoint: proxy.endpoint,
    meta,
    flushMs: s.flushMs,
    maintenanceIntervalMs: 0,
    deleteDelayMs: 0,
    appendTimeoutMs: 30_000,
  });
  try {
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) logs.push(await engine.openPartition({ topic: 'bench', partition: p }, KEEP));
    const mark = () => ({
      writes: meta.writes,
      wru: meta.wru,
      commits: engine.stats().writer.commits,
      puts: engine.stats().s3.puts,
      seenPuts: proxy.counts.put,
      entryBytes: meta.lastEntryBytes,
    });
    let at = mark();
    let end = at;
    const run = await load(logs, rate, s.warmupSeconds * 1000, s.seconds * 1000, (phase) => {
      if (phase === 'start') {
        proxy.resetCounts();
        at = mark();
      } else end = mark();
    });
    // Per flush = per committed object; PUT/s is what the proxy (an outside observer) saw.
    const flushes = end.commits - at.commits;
    const flushesPerSec = flushes / run.seconds;
    const putsPerSec = (end.seenPuts - at.seenPuts) / run.seconds;
    const commitWruPerFlush = (end.wru - at.wru) / flushes;
    const later = await lifecycle(engine, meta, proxy, logs);
    const laterS3PerFlush = (later.gets * PRICES.s3GetPer1000 + later.puts * PRICES.s3PutPer1000) / 1000;
    return {
      partitions,
      appendsPerSec: run.appendsPerSec,
      acked: run.latencies.length,
      failed: run.failed,
      putsPerSec,
      flushesPerSec,
      putsPerFlush: (end.puts - at.puts) / flushes,
      metaWritesPerFlush: (end.writes - at.writes) / flushes,
      entryKB: end.entryBytes / 1024,
      commitWruPerFlush,
      later,
      p50: percentile(run.latencies, 50),
      p99: percentile(run.latencies, 99),
      monthlyS3: SECONDS_PER_MONTH * (putsPerSec * (PRICES.s3PutPer1000 / 1000) + flushesPerSec * laterS3PerFlush),
      monthlyDynamo: SECONDS_PER_MONTH * flushesPerSec * (commitWruPerFlush + later.wru) * (PRICES.dynamoWruPerMillion / 1e6),
    };
  } finally {
    await engine.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What becomes of the objects written: compaction merges them (GETs, a PUT, a transaction replacing their entries),
 * then retention passes them all and the collector removes the merged entries. Returns the cost per object written.
 * The partitions' log-start writes are left out: retention makes them once per partition per check, not per flush.
 */
async function lifecycle(engine: S3StorageEngine, meta: MeteredMeta, proxy: FaultProxy, logs: PartitionLog[]) {
  const objects = engine.stats().writer.commits;
  const latency = proxy.latencyMs;
  proxy.latencyMs = 0;
  proxy.resetCounts();
  const wru0 = meta.wru;
  for (;;) {
    const before = engine.stats().maintenance.objectsCompacted;
    await engine.runMaintenance({ compact: true });
    if (engine.stats().maintenance.objectsCompacted === before) break;
  }
  const compactWru = meta.wru - wru0;
  await Promise.all(logs.map((log) => log.deleteRecordsBefore(log.highWatermark())));
  const wru1 = meta.wru;
  await engine.runMaintenance({ compact: false });
  const collectWru = meta.wru - wru1;
  proxy.latencyMs = latency;
  return { gets: proxy.counts.get / objects, puts: proxy.counts.put / objects, wru: (compactWru + collectWru) / objects };
}

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export async function runS3Bench(s: Settings): Promise<SuiteResult> {
  const s3 = await startS3rver('robustmq-bench');
  const proxy = await startFaultProxy({ port: s3.port });
  const rows: Row[] = [];
  const errors: string[] = [];
  try {
    proxy.latencyMs = s.s3LatencyMs;
    for (const [partitions, rate] of [[1, 1000], [100, 1000], [1000, 1000], [1000, 4000]] as const) {
      s.log(`${partitions} partitions, ${rate} appends/s`);
      try {
        rows.push(await scenario(s3, proxy, partitions, rate, s));
      } catch (err) {
        errors.push(`${partitions} partitions: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const tables: Table[] = [
      {
        title: `S3 engine under steady produce load (flush ${s.flushMs} ms, +${s.s3LatencyMs} ms per S3 call, +${s.metaLatencyMs} ms per meta call)`,
        columns: ['partitions', 'appends/s', 'acked', 'failed', 'PUT/s', 'flush/s', 'PUT/flush', 'meta writes/flush', 'p50 ms', 'p99 ms'],
        rows: rows.map((r) => [String(r.partitions), f(r.appendsPerSec, 0), String(r.acked), String(r.failed), f(r.putsPerSec, 2), f(r.flushesPerSec, 2), f(r.putsPerFlush, 2), f(r.metaWritesPerFlush, 2), f(r.p50), f(r.p99)]),
        notes: [
          `target: PUT/s <= ${f(1000 / s.flushMs, 1)} (1 / flush interval) and meta writes/flush <= 2, whatever the partition count`,
          'open-loop load, one 100-byte record per append, round-robin over the partitions; compaction off during the window',
          'latency = append call to acknowledgement (object PUT + commit); tail reads never touch S3 (served from the cache)',
        ],
      },
      {
        title: `Monthly request cost per broker at AWS list prices (${PRICES.date}: S3 PUT $${PRICES.s3PutPer1000}/1k, GET $${PRICES.s3GetPer1000}/1k; DynamoDB on-demand $${PRICES.dynamoWruPerMillion}/M WRU)`,
        columns: ['partitions', 'appends/s', 'entry KB', 'commit WRU/flush', 'later WRU/flush', 'later GET+PUT/flush', 'S3 $', 'DynamoDB $', 'total $'],
        rows: rows.map((r) => [
          String(r.partitions),
          f(r.appendsPerSec, 0),
          f(r.entryKB, 1),
          f(r.commitWruPerFlush, 1),
          f(r.later.wru, 1),
          `${f(r.later.gets, 2)}+${f(r.later.puts, 3)}`,
          f(r.monthlyS3, 2),
          f(r.monthlyDynamo, 2),
          f(r.monthlyS3 + r.monthlyDynamo, 2),
        ]),
        notes: [
          '30-day month at the measured flush rate; storage, transfer and reads by consumers (cache misses) excluded',
          'commit = one TransactWriteItems: lease check + object entry (2 WRU per KB each)',
          'later = what each object costs afterwards, measured: compaction (GET, merged PUT, entries swapped in one transaction) and',
          '  collection once retention passed it (the merged entry deleted); log-start writes of retention (per partition per check) excluded',
        ],
      },
    ];
    return { suite: 'storage-s3', tables, data: { settings: { ...s, log: undefined }, prices: PRICES, rows }, errors };
  } finally {
    await proxy.close();
    await s3.close();
  }
}

/** Entry point for `npm run bench` (bench/run.ts registers suites). */
export const storageS3Suite: Suite = {
  name: 'storage-s3',
  description: 'S3 storage engine: request cost and produce latency',
  run: (o: SuiteOptions) =>
    runS3Bench({ seconds: o.quick ? 3 : 10, warmupSeconds: 1, s3LatencyMs: 30, metaLatencyMs: 0, flushMs: 250, log: (m) => o.log(m) }),
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      's3-latency-ms': { type: 'string' },
      'meta-latency-ms': { type: 'string' },
      'flush-ms': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const result = await runS3Bench({
    seconds: Number(values.seconds ?? (values.quick ? 3 : 10)),
    warmupSeconds: 1,
    s3LatencyMs: Number(values['s3-latency-ms'] ?? 30),
    metaLatencyMs: Number(values['meta-latency-ms'] ?? 0),
    flushMs: Number(values['flush-ms'] ?? 250),
    log: (m) => process.stderr.write(`# ${m}\n`),
  });
  for (const t of result.tables) console.log(`${renderTable(t)}\n`);
  for (const e of result.errors) console.error(`error: ${e}`);
  if (result.errors.length > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
