/**
 * The S3 engine under S3 faults, injected by an HTTP proxy in front of s3rver: 503 SlowDown, 500, connection
 * resets (before and after the request took effect), hanging requests and outages longer than the producer's
 * timeout. Whatever happens: no crash, no lost acknowledged record, no duplicate offset, no stuck partition.
 */
import { rm } from 'node:fs/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppendResult, LogConfig, PartitionLog } from '../../runtime/storage/engine.js';
import { readAll, tempDir, textBatch, texts, valueText } from '../helpers/batches.js';
import { until } from '../helpers/groups.js';
import { INTERNAL_ERROR, SLOW_DOWN, startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';
import { openTestEngine, startS3rver, type TestS3, type TestS3Engine } from '../helpers/s3rver.js';

const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };

let s3: TestS3;
let proxy: FaultProxy;
let viaProxy: TestS3;
let dir: string;
const engines: TestS3Engine[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  proxy = await startFaultProxy({ port: s3.port });
  viaProxy = { ...s3, endpoint: proxy.endpoint, clientOptions: { ...s3.clientOptions, endpoint: proxy.endpoint } };
});
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
});
beforeEach(async () => {
  dir = await tempDir('robustmq-s3-faults-');
  proxy.rule = () => undefined;
  proxy.resetCounts();
});
afterEach(async () => {
  proxy.rule = () => undefined;
  for (const e of engines.splice(0)) await e.close();
  await rm(dir, { recursive: true, force: true });
});

async function engine(options: Parameters<typeof openTestEngine>[2] = {}): Promise<TestS3Engine> {
  const e = await openTestEngine(dir, viaProxy, { requestTimeoutMs: 300, appendTimeoutMs: 5000, ...options });
  engines.push(e);
  return e;
}

async function reopen(e: TestS3Engine, options: Parameters<typeof openTestEngine>[2] = {}): Promise<TestS3Engine> {
  engines.splice(engines.indexOf(e), 1);
  await e.close();
  proxy.rule = () => undefined;
  return engine(options);
}

/** Appends like a producer: retries while the error says retriable (the writer may still be backing off). */
async function appendRetrying(log: PartitionLog, values: string[]): Promise<AppendResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await log.append(textBatch(values));
    } catch (err) {
      expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
      if (attempt >= 10) throw err;
    }
  }
}

/** Fails the first `count` requests of `kind` with the given faults in turn. */
function failFirst(kind: string, faults: Fault[]): void {
  let seen = 0;
  proxy.rule = (req) => (req.kind === kind && seen < faults.length ? faults[seen++] : undefined);
}

function expectDense(results: AppendResult[], sizes: number[]): void {
  const sorted = results.map((r, i) => ({ ...r, n: sizes[i] })).sort((a, b) => a.baseOffset - b.baseOffset);
  let next = 0;
  for (const r of sorted) {
    expect(r.baseOffset).toBe(next);
    expect(r.lastOffset - r.baseOffset + 1).toBe(r.n);
    next = r.lastOffset + 1;
  }
}

async function listKeys(prefix: string): Promise<string[]> {
  const client = new S3Client(s3.clientOptions);
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
    return (out.Contents ?? []).map((c) => c.Key!);
  } finally {
    client.destroy();
  }
}

describe('S3 engine under injected S3 faults', () => {
  it('retries 503 SlowDown and 500 InternalError until the object lands, with dense offsets', async () => {
    const e = await engine();
    const logs = await Promise.all([0, 1, 2].map((p) => e.openPartition({ topic: 'f', partition: p }, KEEP)));
    failFirst('put', [SLOW_DOWN, INTERNAL_ERROR, SLOW_DOWN, INTERNAL_ERROR]);
    const sizes = Array.from({ length: 60 }, (_, i) => (i % 4) + 1);
    const results = await Promise.all(sizes.map((n, i) => logs[i % 3].append(textBatch(texts(`v${i}-`, n)))));
    expect(proxy.faults.status).toBe(4);
    for (let p = 0; p < 3; p++) {
      const mine = results.filter((_, i) => i % 3 === p);
      expectDense(mine, sizes.filter((_, i) => i % 3 === p));
    }
    expect(e.stats().writer.failedAttempts).toBeGreaterThanOrEqual(4);
    const again = await reopen(e);
    const log0 = await again.openPartition({ topic: 'f', partition: 0 }, KEEP);
    const expected = sizes.flatMap((n, i) => (i % 3 === 0 ? texts(`v${i}-`, n) : []));
    expect((await readAll(log0)).map(valueText)).toEqual(expected);
  });

  it('retries after connection resets; a PUT whose answer was lost leaves only an orphan that the sweep deletes', async () => {
    const e = await engine({ orphanGraceMs: 0 });
    const log = await e.openPartition({ topic: 'r', partition: 0 }, KEEP);
    failFirst('put', [{ type: 'reset' }, { type: 'reset-after' }]);
    const first = await log.append(textBatch(['a', 'b']));
    expect(first).toEqual({ baseOffset: 0, lastOffset: 1, logStartOffset: 0 });
    expect(proxy.faults.reset + proxy.faults['reset-after']).toBe(2);
    const prefix = `t/${dir.split('/').pop()}/objects/`;
    expect(await listKeys(prefix)).toHaveLength(2); // the committed object and the orphan of the lost answer
    await e.runMaintenance({ sweep: true, compact: false });
    expect(await listKeys(prefix)).toHaveLength(1);
    expect(e.stats().collector.orphansDeleted).toBe(1);
    expect((await readAll(log)).map(valueText)).toEqual(['a', 'b']);
  });

  it('times out a hanging request and retries it', async () => {
    const e = await engine({ requestTimeoutMs: 200 });
    const log = await e.openPartition({ topic: 'h', partition: 0 }, KEEP);
    failFirst('put', [{ type: 'hang' }]);
    const started = Date.now();
    expect(await log.append(textBatch(['x']))).toMatchObject({ baseOffset: 0 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(proxy.faults.hang).toBe(1);
  });

  it('fails appends with a retriable STORAGE_UNAVAILABLE when an outage outlasts the timeout, then recovers without holes', async () => {
    const e = await engine({ appendTimeoutMs: 1500 });
    const log = await e.openPartition({ topic: 'o', partition: 0 }, KEEP);
    await log.append(textBatch(['before-0', 'before-1']));
    proxy.rule = (req) => (req.kind === 'put' ? SLOW_DOWN : undefined);
    const failed = await Promise.allSettled([log.append(textBatch(['lost-a'])), log.append(textBatch(['lost-b']))]);
    for (const f of failed) {
      expect(f.status).toBe('rejected');
      expect((f as PromiseRejectedResult).reason).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
    }
    expect(log.highWatermark()).toBe(2);
    expect((await readAll(log)).map(valueText)).toEqual(['before-0', 'before-1']);
    proxy.rule = () => undefined;
    expect(await appendRetrying(log, ['after'])).toMatchObject({ baseOffset: 2, lastOffset: 2 });
    const again = await reopen(e);
    const reopened = await again.openPartition({ topic: 'o', partition: 0 }, KEEP);
    expect((await readAll(reopened)).map(valueText)).toEqual(['before-0', 'before-1', 'after']);
  });

  it('does not commit an object whose PUT answered after its append had been rejected; the sweep deletes it', async () => {
    const e = await engine({ appendTimeoutMs: 800, requestTimeoutMs: 10_000, orphanGraceMs: 0 });
    const log = await e.openPartition({ topic: 'd', partition: 0 }, KEEP);
    failFirst('put', [{ type: 'delay', ms: 2000 }]);
    await expect(log.append(textBatch(['late']))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
    await until(() => e.stats().writer.rebuilt === 1); // the delayed PUT answered and its object was dropped
    expect(await appendRetrying(log, ['after'])).toMatchObject({ baseOffset: 0, lastOffset: 0 });
    expect(e.stats().writer.rebuilt).toBe(1);
    expect((await readAll(log)).map(valueText)).toEqual(['after']);
    const prefix = `t/${dir.split('/').pop()}/objects/`;
    expect(await listKeys(prefix)).toHaveLength(2); // the committed object and the one left uncommitted
    await e.runMaintenance({ sweep: true, compact: false });
    expect(await listKeys(prefix)).toHaveLength(1);
    const again = await reopen(e);
    const reopened = await again.openPartition({ topic: 'd', partition: 0 }, KEEP);
    expect((await readAll(reopened)).map(valueText)).toEqual(['after']);
  });

  it('retries failed range GETs and reports a read that cannot finish in time as retriable', async () => {
    const e = await engine();
    const log = await e.openPartition({ topic: 'g', partition: 0 }, KEEP);
    for (let i = 0; i < 5; i++) await log.append(textBatch(texts(`g${i}-`, 3)));
    const cold = await reopen(e);
    const coldLog = await cold.openPartition({ topic: 'g', partition: 0 }, KEEP);
    failFirst('get', [SLOW_DOWN, { type: 'reset' }, INTERNAL_ERROR]);
    expect((await readAll(coldLog)).map(valueText)).toEqual([0, 1, 2, 3, 4].flatMap((i) => texts(`g${i}-`, 3)));
    expect(proxy.faults.status + proxy.faults.reset).toBe(3);

    const slow = await reopen(cold, { readTimeoutMs: 800, requestTimeoutMs: 250 });
    const slowLog = await slow.openPartition({ topic: 'g', partition: 0 }, KEEP);
    proxy.rule = (req) => (req.kind === 'get' ? { type: 'hang' } : undefined);
    const started = Date.now();
    await expect(slowLog.read(0, 1024)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
    expect(Date.now() - started).toBeLessThan(3000);
    proxy.rule = () => undefined;
    expect((await readAll(slowLog)).length).toBe(15); // the partition serves again once S3 does
    proxy.rule = () => undefined;
  });
});

describe('S3 engine under random faults (chaos)', () => {
  it('never loses an acknowledged record, never duplicates an offset, never sticks a partition', async () => {
    const e = await engine({ appendTimeoutMs: 1500, requestTimeoutMs: 150, flushMs: 5 });
    const logs: PartitionLog[] = await Promise.all([0, 1, 2, 3].map((p) => e.openPartition({ topic: 'chaos', partition: p }, KEEP)));
    const faults: Fault[] = [SLOW_DOWN, INTERNAL_ERROR, { type: 'reset' }, { type: 'reset-after' }, { type: 'hang' }];
    proxy.rule = () => (Math.random() < 0.25 ? faults[Math.floor(Math.random() * faults.length)] : undefined);
    const acked = new Map<string, { partition: number; offset: number }>();
    let failures = 0;
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (producer) => {
        for (let i = 0; i < 25; i++) {
          const p = (producer + i) % 4;
          const value = `p${producer}-${i}`;
          try {
            const r = await logs[p].append(textBatch([value]));
            acked.set(value, { partition: p, offset: r.baseOffset });
          } catch (err) {
            expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
            failures++;
          }
        }
      }),
    );
    proxy.rule = () => undefined;
    expect(acked.size + failures).toBe(150);
    expect(acked.size).toBeGreaterThan(0);
    const again = await reopen(e);
    for (let p = 0; p < 4; p++) {
      const log = await again.openPartition({ topic: 'chaos', partition: p }, KEEP);
      const records = await readAll(log);
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i)); // dense, no duplicate offsets
      expect(log.highWatermark()).toBe(records.length);
      const byValue = new Map(records.map((r) => [valueText(r), r.offset]));
      for (const [value, where] of acked) if (where.partition === p) expect(byValue.get(value)).toBe(where.offset);
      expect((await log.append(textBatch(['after-chaos']))).baseOffset).toBe(records.length); // not stuck
    }
  }, 60_000);
});
