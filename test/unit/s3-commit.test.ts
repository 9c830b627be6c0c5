/**
 * The S3 engine's commit protocol: one MetaStore transaction per flush whatever the partition count, commits whose
 * outcome is unknown (a MetaStore timeout) settled without duplicate or lost offsets, and fencing of a zombie.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { Change, DeleteOptions, Entry, MetaStore, Namespace, PutOptions, TransactOp } from '../../runtime/meta/store.js';
import type { LogConfig } from '../../runtime/storage/engine.js';
import { S3StorageEngine, type S3EngineOptions } from '../../runtime/storage/s3/engine.js';
import { readAll, tempDir, textBatch, texts, valueText } from '../helpers/batches.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';

const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };

/** Delegates to a real store, counting writes and failing chosen object commits like a timed-out DynamoDB call. */
class FlakyMeta implements MetaStore {
  readonly kind = 'embedded' as const;
  writes = 0;
  transacts = 0;
  /** The next object commit throws a network error, before or after it took effect. */
  failNextCommit: 'before' | 'after' | undefined;

  constructor(readonly inner: MetaStore) {}

  get<T>(ns: Namespace, key: string): Promise<Entry<T> | undefined> {
    return this.inner.get<T>(ns, key);
  }
  list<T>(ns: Namespace, prefix?: string): Promise<Entry<T>[]> {
    return this.inner.list<T>(ns, prefix);
  }
  put<T>(ns: Namespace, key: string, value: T, options?: PutOptions): Promise<Entry<T>> {
    this.writes++;
    return this.inner.put(ns, key, value, options);
  }
  delete(ns: Namespace, key: string, options?: DeleteOptions): Promise<boolean> {
    this.writes++;
    return this.inner.delete(ns, key, options);
  }
  async transact(ops: TransactOp[]): Promise<void> {
    this.writes++;
    this.transacts++;
    const commit = ops.some((op) => op.op === 'put' && op.ns === 's3-objects');
    const fault = commit ? this.failNextCommit : undefined;
    if (fault) this.failNextCommit = undefined;
    if (fault === 'before') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    await this.inner.transact(ops);
    if (fault === 'after') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
  watch<T>(ns: Namespace, listener: (change: Change<T>) => void): () => void {
    return this.inner.watch(ns, listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let s3: TestS3;
let dir: string;
let inner: EmbeddedMetaStore;
let meta: FlakyMeta;
const engines: S3StorageEngine[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
});
beforeEach(async () => {
  dir = await tempDir('robustmq-s3-commit-');
  inner = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
  meta = new FlakyMeta(inner);
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await inner.close();
  await rm(dir, { recursive: true, force: true });
});

function engine(options: Partial<S3EngineOptions> = {}): S3StorageEngine {
  const e = new S3StorageEngine({ bucket: s3.bucket, prefix: `t/${path.basename(dir)}`, ...s3.clientOptions, meta, flushMs: 10, maintenanceIntervalMs: 0, ...options });
  engines.push(e);
  return e;
}

async function closeEngine(e: S3StorageEngine): Promise<void> {
  engines.splice(engines.indexOf(e), 1);
  await e.close();
}

describe('S3 engine commits', () => {
  it('makes one MetaStore write per flush, whatever the number of partitions', async () => {
    const e = engine({ flushMs: 50 });
    const logs = await Promise.all(Array.from({ length: 200 }, (_, p) => e.openPartition({ topic: 'wide', partition: p }, KEEP)));
    for (let round = 0; round < 3; round++) {
      const before = { writes: meta.writes, puts: e.stats().s3.puts, commits: e.stats().writer.commits };
      await Promise.all(logs.map((log, p) => log.append(textBatch([`r${round}-p${p}`]))));
      const after = e.stats();
      expect(after.writer.commits - before.commits).toBe(1);
      expect(after.s3.puts - before.puts).toBe(1);
      expect(meta.writes - before.writes).toBe(1);
    }
    expect(logs.map((l) => l.highWatermark())).toEqual(logs.map(() => 3));
  });

  it('settles a commit that failed before it applied: the offsets are reused, nothing is duplicated', async () => {
    const e = engine();
    const log = await e.openPartition({ topic: 'u', partition: 0 }, KEEP);
    await log.append(textBatch(['first']));
    meta.failNextCommit = 'before';
    expect(await log.append(textBatch(['second', 'third']))).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    expect(await log.append(textBatch(['fourth']))).toMatchObject({ baseOffset: 3 });
    const markers = (await inner.list<{ aborted?: boolean }>('s3-objects')).filter((x) => x.value.aborted);
    expect(markers).toHaveLength(1); // the lost attempt can never commit later
    await closeEngine(e);
    const again = await engine().openPartition({ topic: 'u', partition: 0 }, KEEP);
    expect((await readAll(again)).map((r) => [r.offset, valueText(r)])).toEqual([
      [0, 'first'],
      [1, 'second'],
      [2, 'third'],
      [3, 'fourth'],
    ]);
  });

  it('settles a commit that applied although the call failed: acknowledged once, not written twice', async () => {
    const e = engine();
    const log = await e.openPartition({ topic: 'a', partition: 0 }, KEEP);
    meta.failNextCommit = 'after';
    expect(await log.append(textBatch(['only-once']))).toMatchObject({ baseOffset: 0, lastOffset: 0 });
    expect(await log.append(textBatch(['next']))).toMatchObject({ baseOffset: 1 });
    expect(e.stats().writer.commits).toBe(2);
    expect(e.stats().writer.failedAttempts).toBe(0); // recognised as committed, not written again
    const entries = await inner.list<{ ranges?: number[][] }>('s3-objects');
    expect(entries.map((x) => x.value.ranges?.map((r) => [r[3], r[4]]))).toEqual([[[0, 1]], [[1, 1]]]); // [base offset, records]
    await closeEngine(e);
    const again = await engine().openPartition({ topic: 'a', partition: 0 }, KEEP);
    expect((await readAll(again)).map(valueText)).toEqual(['only-once', 'next']);
  });

  it('fences a zombie: once a new engine takes the lease, the old one can no longer commit', async () => {
    const zombie = engine();
    const oldLog = await zombie.openPartition({ topic: 'z', partition: 0 }, KEEP);
    await oldLog.append(textBatch(texts('before-', 3)));
    const successor = engine();
    const newLog = await successor.openPartition({ topic: 'z', partition: 0 }, KEEP);
    expect(successor.stats().epoch).toBeGreaterThan(zombie.stats().epoch);
    await expect(oldLog.append(textBatch(['zombie-write']))).rejects.toMatchObject({ code: 'NOT_LEADER', retriable: true });
    await expect(oldLog.append(textBatch(['zombie-again']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    expect(await newLog.append(textBatch(['successor']))).toMatchObject({ baseOffset: 3 });
    await expect(oldLog.deleteRecordsBefore(2)).rejects.toMatchObject({ code: 'NOT_LEADER' });
    expect((await readAll(newLog)).map(valueText)).toEqual([...texts('before-', 3), 'successor']);
    await closeEngine(successor);
    const third = await engine().openPartition({ topic: 'z', partition: 0 }, KEEP);
    expect((await readAll(third)).map(valueText)).toEqual([...texts('before-', 3), 'successor']);
  });

  it('never mixes records of a dropped partition into the partition created again under its name', async () => {
    const e = engine();
    const old = await e.openPartition({ topic: 'again', partition: 0 }, KEEP);
    await old.append(textBatch(texts('old-', 3)));
    await e.dropPartition({ topic: 'again', partition: 0 });
    const fresh = await e.openPartition({ topic: 'again', partition: 0 }, KEEP);
    await fresh.append(textBatch(['new-0']));
    await closeEngine(e); // no collection ran: the old object and its entry are still there
    const reopened = await engine().openPartition({ topic: 'again', partition: 0 }, KEEP);
    expect((await readAll(reopened)).map((r) => [r.offset, valueText(r)])).toEqual([[0, 'new-0']]);
    const states = await inner.list<{ incarnation: number }>('s3-partitions');
    expect(states.map((x) => x.value.incarnation)).toEqual([2]);
  });

  it('lets brokers share a bucket and meta: each collects only dead data, and a partition handed over keeps its history', async () => {
    const a = engine({ brokerId: 'a', shared: true, orphanGraceMs: 0, deleteDelayMs: 0 });
    const b = engine({ brokerId: 'b', shared: true, orphanGraceMs: 0, deleteDelayMs: 0 });
    const b1 = await b.openPartition({ topic: 'shared', partition: 1 }, KEEP);
    const a0 = await a.openPartition({ topic: 'shared', partition: 0 }, KEEP);
    for (let i = 0; i < 3; i++) {
      await a0.append(textBatch([`a${i}`]));
      await b1.append(textBatch([`b${i}`]));
    }
    await a.runMaintenance({ sweep: true });
    await b.runMaintenance({ sweep: true });
    expect((await inner.list('s3-objects')).length).toBe(2); // each broker's three objects, compacted into one
    // The scheduler moves partition 0 to broker b: it bumps a's lease, so a can no longer commit.
    await inner.put('s3-leases', `${s3.bucket}/t/${path.basename(dir)}/a`, { brokerId: 'a', holder: 'scheduler', acquiredAt: 0 });
    await expect(a0.append(textBatch(['fenced']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    const moved = await b.openPartition({ topic: 'shared', partition: 0 }, KEEP);
    expect((await readAll(moved)).map(valueText)).toEqual(['a0', 'a1', 'a2']);
    expect(await moved.append(textBatch(['b-took-over']))).toMatchObject({ baseOffset: 3 });
    await closeEngine(a);
    await closeEngine(b);
    const later = engine({ brokerId: 'b', shared: true });
    const p0 = await later.openPartition({ topic: 'shared', partition: 0 }, KEEP);
    const p1 = await later.openPartition({ topic: 'shared', partition: 1 }, KEEP);
    expect((await readAll(p0)).map(valueText)).toEqual(['a0', 'a1', 'a2', 'b-took-over']);
    expect((await readAll(p1)).map(valueText)).toEqual(['b0', 'b1', 'b2']);
  });

  it('serves everything from a new engine with an empty cache and only the bucket and the meta in common', async () => {
    const first = engine();
    const logs = await Promise.all([0, 1].map((p) => first.openPartition({ topic: 'm', partition: p }, KEEP)));
    for (let i = 0; i < 6; i++) await logs[i % 2].append(textBatch(texts(`m${i}-`, 4), { timestamp: 1_700_000_000_000 + i }));
    await logs[0].deleteRecordsBefore(2);
    await closeEngine(first);
    const fresh = engine();
    const a = await fresh.openPartition({ topic: 'm', partition: 0 }, KEEP);
    const b = await fresh.openPartition({ topic: 'm', partition: 1 }, KEEP);
    expect([a.logStartOffset(), a.highWatermark(), b.highWatermark()]).toEqual([2, 12, 12]);
    expect((await readAll(a)).map(valueText)).toEqual([0, 2, 4].flatMap((i) => texts(`m${i}-`, 4)).slice(2));
    expect((await readAll(b)).map(valueText)).toEqual([1, 3, 5].flatMap((i) => texts(`m${i}-`, 4)));
    expect(await b.offsetForTime(1_700_000_000_003)).toEqual({ offset: 4, timestamp: 1_700_000_000_003 });
    expect(fresh.stats().s3.gets).toBeGreaterThan(0); // read from S3, not from anything the first engine left behind
  });
});
