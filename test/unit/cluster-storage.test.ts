/**
 * Leadership over the S3 engine, on s3rver and an embedded MetaStore shared by two engines (two brokers): gated
 * logs serve only while leading; a partition handed over and back carries everything the other broker appended
 * (the engine forgets it on release); fencing a dead broker stops its commits; the scheduler's pass moves a dead
 * broker's partitions only after fencing it.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatedLog } from '../../runtime/cluster/gate.js';
import { leaderKey, type PartitionLeader } from '../../runtime/cluster/records.js';
import { fenceBroker, reassignLeadership } from '../../runtime/cluster/reassign.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { RobustMQError } from '../../runtime/errors.js';
import { S3StorageEngine } from '../../runtime/storage/s3/engine.js';
import { readAll, tempDir, textBatch, valueText } from '../helpers/batches.js';
import { startS3rver, type TestS3 } from '../helpers/s3rver.js';

const KEEP = { retentionMs: -1, retentionBytes: -1 };
const ID = { topic: 't', partition: 0 };
let s3: TestS3;
let dir: string;
let meta: EmbeddedMetaStore;
const engines: S3StorageEngine[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.close();
});
beforeEach(async () => {
  dir = await tempDir('robustmq-cluster-storage-');
  meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close().catch(() => undefined);
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

function engine(brokerId: string): S3StorageEngine {
  const e = new S3StorageEngine({
    bucket: s3.bucket,
    prefix: `c/${path.basename(dir)}`,
    ...s3.clientOptions,
    meta,
    brokerId,
    shared: true,
    flushMs: 10,
    maintenanceIntervalMs: 0,
  });
  engines.push(e);
  return e;
}

function gate(e: S3StorageEngine, fenced: RobustMQError[] = []): GatedLog {
  return new GatedLog(ID, KEEP, e, (err) => fenced.push(err));
}

describe('leadership over the S3 engine', () => {
  it('serves a partition only while leading it, and hands it back and forth without losing records', async () => {
    const a = gate(engine('a'));
    const b = gate(engine('b'));
    await expect(a.append(textBatch(['x']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await a.acquire(1);
    for (const v of ['a0', 'a1', 'a2']) await a.append(textBatch([v]));
    await a.release();
    await expect(a.read(0, 1024)).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await b.acquire(2);
    expect(b.highWatermark()).toBe(3);
    for (const v of ['b3', 'b4']) await b.append(textBatch([v]));
    await b.release();
    // Back to a: without the engine forgetting the partition on release, a would append at offset 3 again.
    await a.acquire(3);
    expect(a.epoch).toBe(3);
    expect(a.highWatermark()).toBe(5);
    expect(await a.append(textBatch(['a5']))).toMatchObject({ baseOffset: 5 });
    expect((await readAll(a)).map(valueText)).toEqual(['a0', 'a1', 'a2', 'b3', 'b4', 'a5']);
  });

  it('settles appends in flight before a release completes', async () => {
    const a = gate(engine('a'));
    await a.acquire(1);
    const pending = Array.from({ length: 20 }, (_, i) => a.append(textBatch([`p${i}`])).then(() => 'ok' as const, () => 'refused' as const));
    let settled = 0;
    for (const p of pending) void p.then(() => settled++);
    await a.release();
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(20);
    const b = gate(engine('b'));
    await b.acquire(2);
    const stored = (await readAll(b)).map(valueText);
    const acked = (await Promise.all(pending)).map((o, i) => (o === 'ok' ? `p${i}` : undefined)).filter(Boolean);
    // Every acknowledged append is there, in order, and nothing else lands after the hand-over.
    expect(stored).toEqual(acked);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.highWatermark()).toBe(stored.length);
  });

  it('fences a dead broker: its next commit is refused and the new leader has what it committed', async () => {
    const fenced: RobustMQError[] = [];
    const a = gate(engine('a'), fenced);
    await a.acquire(1);
    await a.append(textBatch(['before']));
    expect(await fenceBroker(meta, 'a')).toBe(true);
    await expect(a.append(textBatch(['zombie']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
    expect(fenced).toHaveLength(1);
    const b = gate(engine('b'));
    await b.acquire(2);
    expect((await readAll(b)).map(valueText)).toEqual(['before']);
  });

  it("does not fence a broker that holds a live membership lease again (it restarted)", async () => {
    const a = gate(engine('a'));
    await a.acquire(1);
    await meta.put('brokers', 'a', { id: 'a' }, { ttlMs: 60_000 });
    expect(await fenceBroker(meta, 'a')).toBe(false);
    expect(await a.append(textBatch(['still-mine']))).toMatchObject({ baseOffset: 0 });
  });

  it("reassigns a dead broker's partitions with the next epoch, after fencing it", async () => {
    const topic = { name: 't', partitions: 2, storage: 's3', retentionMs: -1, retentionBytes: -1, cleanupPolicy: 'delete', mqttBindings: [], createdAt: 0, configs: {} };
    await meta.put('topics', 't', topic);
    const lease = (id: string) => ({ id, nodeId: 1, host: 'h', kafka: { host: 'h', port: 1 }, internal: { host: 'h', port: 2 }, startedAt: 0, heartbeatAt: 0, connections: {}, lastActivityAt: 0, partitions: 0 });
    await meta.put('brokers', 'b', lease('b'), { ttlMs: 60_000 });
    const first = await reassignLeadership(meta, [{ id: 'b' }], Date.now());
    expect(first).toMatchObject({ moved: 2, leaderless: 0, fenced: [] });
    // b dies (its lease is gone) while c is live; b had taken its S3 lease.
    const b = gate(engine('b'));
    await b.acquire(1);
    await b.append(textBatch(['from-b']));
    await meta.delete('brokers', 'b');
    await meta.put('brokers', 'c', lease('c'), { ttlMs: 60_000 });
    const second = await reassignLeadership(meta, [{ id: 'c' }], Date.now());
    expect(second).toMatchObject({ moved: 2, fenced: ['b'] });
    const entries = await meta.list<PartitionLeader>('partitions');
    expect(entries.map((e) => [e.key, e.value.leader, e.value.epoch])).toEqual([
      [leaderKey('t', 0), 'c', 2],
      [leaderKey('t', 1), 'c', 2],
    ]);
    await expect(b.append(textBatch(['late']))).rejects.toMatchObject({ code: 'NOT_LEADER' });
  });
});
