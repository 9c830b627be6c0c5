/**
 * The S3 engine's upkeep and read path: compaction of small objects, retention deleting whole objects only when
 * nothing in them is live, collection after a drop, orphan cleanup, the memory bound of the read cache, read-ahead
 * for sequential consumers and tail reads served from memory.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogConfig, PartitionLog } from '../../runtime/storage/engine.js';
import { readAll, tempDir, textBatch, texts, valueText } from '../helpers/batches.js';
import { openTestEngine, startS3rver, type TestS3, type TestS3Engine } from '../helpers/s3rver.js';

const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };
const T0 = 1_700_000_000_000;

let s3: TestS3;
let client: S3Client;
let dir: string;
const engines: TestS3Engine[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  client = new S3Client(s3.clientOptions);
});
afterAll(async () => {
  client?.destroy();
  await s3?.close();
});
beforeEach(async () => {
  dir = await tempDir('robustmq-s3-upkeep-');
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await rm(dir, { recursive: true, force: true });
});

async function engine(options: Parameters<typeof openTestEngine>[2] = {}): Promise<TestS3Engine> {
  const e = await openTestEngine(dir, s3, { deleteDelayMs: 0, ...options });
  engines.push(e);
  return e;
}

async function reopen(e: TestS3Engine, options: Parameters<typeof openTestEngine>[2] = {}): Promise<TestS3Engine> {
  engines.splice(engines.indexOf(e), 1);
  await e.close();
  return engine(options);
}

const objectsPrefix = (): string => `t/${path.basename(dir)}/objects/`;

async function objectKeys(): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: objectsPrefix() }));
  return (out.Contents ?? []).map((c) => c.Key!);
}

async function entryCount(e: TestS3Engine): Promise<number> {
  return (await e.metaStore.list('s3-objects')).length;
}

describe('S3 engine compaction', () => {
  it('merges small objects into one, keeping every record, offset and timestamp', async () => {
    const e = await engine();
    const logs = await Promise.all([0, 1, 2].map((p) => e.openPartition({ topic: 'c', partition: p }, KEEP)));
    for (let i = 0; i < 10; i++) {
      await Promise.all(logs.map((log, p) => log.append(textBatch(texts(`p${p}-${i}-`, 2), { timestamp: T0 + i }))));
    }
    const before = await Promise.all(logs.map((log) => readAll(log)));
    const sizes = logs.map((log) => log.sizeBytes());
    expect(await objectKeys()).toHaveLength(10);
    await e.runMaintenance({ compact: true });
    expect(e.stats().maintenance.objectsCompacted).toBe(10);
    expect(await entryCount(e)).toBe(1);
    expect(await objectKeys()).toHaveLength(1); // the replaced objects are deleted (delay 0)
    expect(logs.map((log) => log.sizeBytes())).toEqual(sizes);
    for (let p = 0; p < 3; p++) expect(await readAll(logs[p])).toEqual(before[p]);
    expect((await logs[1].append(textBatch(['after']))).baseOffset).toBe(20);

    const again = await reopen(e);
    const reopened = await again.openPartition({ topic: 'c', partition: 1 }, KEEP);
    expect((await readAll(reopened)).map(valueText)).toEqual([...before[1].map(valueText), 'after']);
    expect(await reopened.offsetForTime(T0 + 5)).toEqual({ offset: 10, timestamp: T0 + 5 });
  });
});

describe('S3 engine retention and garbage collection', () => {
  it('deletes an object only when every partition in it is past it', async () => {
    const e = await engine({ compactSmallBytes: 0 });
    const a = await e.openPartition({ topic: 'ret', partition: 0 }, { retentionMs: 1000, retentionBytes: -1 });
    const b = await e.openPartition({ topic: 'ret', partition: 1 }, KEEP);
    for (let i = 0; i < 4; i++) await Promise.all([a, b].map((log) => log.append(textBatch([`${i}`], { timestamp: T0 + i * 10_000 }))));
    expect(await objectKeys()).toHaveLength(4);
    expect(await a.enforceRetention(T0 + 25_000)).toBe(3); // a's records 0..2 are older than T0 + 24 s
    await e.runMaintenance();
    expect(await objectKeys()).toHaveLength(4); // b still needs all four objects
    await b.deleteRecordsBefore(1);
    await e.runMaintenance();
    expect(await objectKeys()).toHaveLength(3); // the first object is dead for both
    expect(await entryCount(e)).toBe(3);
    expect(e.stats().collector.objectsCollected).toBe(1);
    expect((await readAll(a)).map(valueText)).toEqual(['3']);
    expect((await readAll(b)).map(valueText)).toEqual(['1', '2', '3']);
    const again = await reopen(e);
    const b2 = await again.openPartition({ topic: 'ret', partition: 1 }, KEEP);
    expect([b2.logStartOffset(), b2.highWatermark()]).toEqual([1, 4]);
  });

  it('collects the objects of a dropped partition', async () => {
    const e = await engine({ compactSmallBytes: 0 });
    const log = await e.openPartition({ topic: 'gone', partition: 0 }, KEEP);
    for (let i = 0; i < 3; i++) await log.append(textBatch([`${i}`]));
    await e.dropPartition({ topic: 'gone', partition: 0 });
    await e.runMaintenance();
    expect(await objectKeys()).toEqual([]);
    expect(await entryCount(e)).toBe(0);
  });

  it('deletes orphaned objects older than the grace period and keeps younger ones', async () => {
    const e = await engine({ orphanGraceMs: 60_000 });
    const log = await e.openPartition({ topic: 'orph', partition: 0 }, KEEP);
    await log.append(textBatch(['kept']));
    const orphan = `${objectsPrefix()}0000000000001-deadbeef0000`;
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: orphan, Body: Buffer.from('crashed before commit') }));
    await e.runMaintenance({ sweep: true });
    expect(await objectKeys()).toHaveLength(2); // younger than the grace period
    const impatient = await reopen(e, { orphanGraceMs: 0 });
    await impatient.runMaintenance({ sweep: true });
    expect(await objectKeys()).toHaveLength(1);
    expect(await objectKeys()).not.toContain(orphan);
    const reopened = await impatient.openPartition({ topic: 'orph', partition: 0 }, KEEP);
    expect((await readAll(reopened)).map(valueText)).toEqual(['kept']);
  });
});

describe('S3 engine reads', () => {
  async function fill(log: PartitionLog, batches: number, recordBytes: number): Promise<void> {
    for (let i = 0; i < batches; i++) await log.append(textBatch([`${i}:`.padEnd(recordBytes, 'x')]));
  }

  it('serves the newest data from memory without a GET', async () => {
    const e = await engine();
    const log = await e.openPartition({ topic: 'tail', partition: 0 }, KEEP);
    await fill(log, 5, 100);
    expect((await readAll(log)).length).toBe(5);
    expect(e.stats().s3.gets).toBe(0);
  });

  it('keeps the read cache within its memory bound', async () => {
    const first = await engine();
    await fill(await first.openPartition({ topic: 'big', partition: 0 }, KEEP), 40, 10_000);
    const e = await reopen(first, { cacheBytes: 50_000, readAheadBytes: 0 });
    const log = await e.openPartition({ topic: 'big', partition: 0 }, KEEP);
    expect((await readAll(log, 0, 20_000)).length).toBe(40);
    const { cache } = e.stats();
    expect(cache.bytes).toBeLessThanOrEqual(50_000);
    expect(cache.evictions).toBeGreaterThan(0);
  });

  it('fetches ahead of a sequential consumer', async () => {
    const first = await engine();
    await fill(await first.openPartition({ topic: 'seq', partition: 0 }, KEEP), 20, 1000);
    /** One batch per read, like a consumer with a small fetch size; returns the engine's read stats. */
    async function consume(readAheadBytes: number) {
      const e = await reopen(engines[engines.length - 1], { readAheadBytes });
      const log = await e.openPartition({ topic: 'seq', partition: 0 }, KEEP);
      for (let offset = 0; offset < 20; offset++) {
        expect((await log.read(offset, 1)).chunks).toHaveLength(1);
        await new Promise((r) => setTimeout(r, 5)); // the consumer processes; read-ahead runs meanwhile
      }
      return e.stats();
    }
    const without = await consume(0);
    expect([without.s3.gets, without.cache.hits]).toEqual([20, 0]);
    const ahead = await consume(8000);
    expect(ahead.s3.gets).toBe(20); // every range still fetched exactly once
    expect(ahead.cache.hits).toBeGreaterThan(12); // but most reads found it already there
  });
});
