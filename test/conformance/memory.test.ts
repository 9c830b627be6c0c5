import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { LogConfig } from '../../runtime/storage/engine.js';
import { MemoryStorageEngine } from '../../runtime/storage/memory/engine.js';
import { SLAB_BYTES } from '../../runtime/storage/memory/partition.js';
import { readBatchHeader } from '../../runtime/storage/record-batch.js';
import { gzipBatch, readAll, textBatch, texts, valueText } from '../helpers/batches.js';
import { storageConformance } from './storage-suite.js';

storageConformance({ name: 'memory', persistent: false, create: async () => new MemoryStorageEngine() });

const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };
const P0 = { topic: 'mem', partition: 0 };
const T0 = 1_700_000_000_000;

async function memoryLog(config = KEEP) {
  const engine = new MemoryStorageEngine();
  return { engine, log: await engine.openPartition(P0, config) };
}

describe('MemoryStorageEngine specifics', () => {
  it('is kind memory and keeps nothing across engine instances', async () => {
    const { engine, log } = await memoryLog();
    await log.append(textBatch(['a']));
    await engine.close();
    const next = new MemoryStorageEngine();
    expect(next.kind).toBe('memory');
    expect((await next.openPartition(P0, KEEP)).highWatermark()).toBe(0);
  });

  it('stores a private copy of a batch that arrived inside a larger request buffer', async () => {
    const { log } = await memoryLog();
    const batch = textBatch(['payload'], { baseOffset: 77 });
    const request = Buffer.alloc(batch.length + 4096, 0xee);
    batch.copy(request, 100);
    const view = request.subarray(100, 100 + batch.length);
    await log.append(textBatch(['first']));
    await log.append(view);
    expect(readBatchHeader(view).baseOffset).toBe(1); // the caller's bytes carry the assigned offset too
    request.fill(0);
    const { chunks } = await log.read(1, 1 << 20);
    expect(chunks[0].buffer).not.toBe(request.buffer);
    expect(chunks[0].buffer.byteLength).toBeLessThanOrEqual(SLAB_BYTES); // at most a slab is kept alive, never the request
    expect(readBatchHeader(chunks[0]).baseOffset).toBe(1);
    expect((await readAll(log)).map(valueText)).toEqual(['first', 'payload']);
  });

  it('drops exactly the whole batches older than the retention time', async () => {
    const { log } = await memoryLog({ retentionMs: 95_000, retentionBytes: -1 });
    for (let i = 0; i < 10; i++) await log.append(textBatch([`r${i}a`, `r${i}b`], { timestamps: [T0 + i * 1000, T0 + i * 1000 + 10] }));
    const perBatch = log.sizeBytes() / 10;
    expect(await log.enforceRetention(T0 + 100_000)).toBe(10);
    expect(log.sizeBytes()).toBe(perBatch * 5);
  });

  it('keeps the newest batches that fit the size limit', async () => {
    const { log } = await memoryLog();
    for (let i = 0; i < 20; i++) await log.append(textBatch([`${i}`.padStart(500, '-')], { timestamp: T0 }));
    const perBatch = log.sizeBytes() / 20;
    log.updateConfig({ retentionMs: -1, retentionBytes: perBatch * 6 + perBatch / 2 });
    expect(await log.enforceRetention(T0)).toBe(14);
    expect(log.sizeBytes()).toBe(perBatch * 6);
    log.updateConfig({ retentionMs: -1, retentionBytes: perBatch * 6 }); // exactly at the limit: nothing goes
    expect(await log.enforceRetention(T0)).toBe(14);
    log.updateConfig({ retentionMs: -1, retentionBytes: 0 });
    expect(await log.enforceRetention(T0)).toBe(20);
    expect(log.sizeBytes()).toBe(0);
  });

  it('frees whole batches below a deleteRecordsBefore offset and keeps the one it cuts', async () => {
    const { log } = await memoryLog();
    for (let b = 0; b < 3; b++) await log.append(textBatch(texts(`b${b}-`, 4), { timestamp: T0 }));
    const perBatch = log.sizeBytes() / 3;
    await log.deleteRecordsBefore(6);
    expect(log.sizeBytes()).toBe(perBatch * 2);
    expect(readBatchHeader((await log.read(6, 1)).chunks[0]).baseOffset).toBe(4);
    await log.deleteRecordsBefore(8);
    expect(log.sizeBytes()).toBe(perBatch);
  });

  it('lets the garbage collector reclaim dropped batches', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { engine, log } = await memoryLog();
    const value = Buffer.alloc(4 * 1024 * 1024, 1);
    await log.append(textBatch([value.toString('latin1')]));
    await log.append(textBatch(['keep']));
    const first = new WeakRef((await log.read(0, 1)).chunks[0].buffer);
    await log.deleteRecordsBefore(1);
    await new Promise((r) => setTimeout(r, 0));
    gc();
    await new Promise((r) => setTimeout(r, 0));
    expect(first.deref()).toBeUndefined();
    const second = new WeakRef((await log.read(1, 1)).chunks[0].buffer);
    await engine.dropPartition(P0);
    await new Promise((r) => setTimeout(r, 0));
    gc();
    await new Promise((r) => setTimeout(r, 0));
    expect(second.deref()).toBeUndefined();
  });

  it('drops the oldest batches on append once a partition is over retentionBytes by more than a slab, keeping the newest', async () => {
    const limit = 2 * SLAB_BYTES;
    const { log } = await memoryLog({ retentionMs: -1, retentionBytes: limit });
    const value = 'v'.repeat(8 * 1024);
    for (let i = 0; i < 1000; i++) await log.append(textBatch([value], { timestamp: T0 }));
    expect(log.highWatermark()).toBe(1000);
    expect(log.sizeBytes()).toBeLessThanOrEqual(limit + SLAB_BYTES + 9 * 1024);
    expect(log.sizeBytes()).toBeGreaterThan(limit - 9 * 1024);
    const start = log.logStartOffset();
    expect(start).toBeGreaterThan(0);
    await expect(log.read(start - 1, 1024)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect((await readAll(log)).map((r) => r.offset)).toEqual(Array.from({ length: 1000 - start }, (_, i) => start + i));
    // A batch larger than the whole limit is still kept until the next one arrives.
    log.updateConfig({ retentionMs: -1, retentionBytes: 1024 });
    await log.append(textBatch(['x'.repeat(2 * SLAB_BYTES)], { timestamp: T0 }));
    expect((await log.read(1000, 1)).chunks).toHaveLength(1);
    expect(log.logStartOffset()).toBe(1000);
  });

  it('reuses the slabs of dropped batches, across partitions, instead of allocating as much as it appends', async () => {
    const engine = new MemoryStorageEngine();
    const config = { retentionMs: -1, retentionBytes: SLAB_BYTES };
    const logs = await Promise.all([0, 1].map((partition) => engine.openPartition({ topic: 'mem', partition }, config)));
    const value = 'r'.repeat(16 * 1024);
    for (let i = 0; i < 2000; i++) await logs[i % 2].append(textBatch([value], { timestamp: T0 }));
    const appended = 2000 * 16 * 1024;
    const { slabsAllocated, slabsReused } = engine.stats();
    expect(slabsAllocated + slabsReused).toBeGreaterThanOrEqual(appended / SLAB_BYTES - 4);
    expect(slabsAllocated).toBeLessThanOrEqual(10); // ~32 MiB appended through 1 MiB of retention per partition
    for (const log of logs) expect(new Set((await readAll(log)).map((r) => valueText(r)))).toEqual(new Set([value]));
  });

  it('never reuses a slab a read handed out: the reader keeps its bytes', async () => {
    const engine = new MemoryStorageEngine();
    const log = await engine.openPartition(P0, { retentionMs: -1, retentionBytes: SLAB_BYTES });
    const value = (i: number) => `${i}:`.padEnd(16 * 1024, 'e');
    for (let i = 0; i < 200; i++) await log.append(textBatch([value(i)], { timestamp: T0 }));
    const start = log.logStartOffset();
    const held = (await log.read(start, 4 * SLAB_BYTES)).chunks.map((c) => Buffer.from(c)); // copies, for comparing
    const views = (await log.read(start, 4 * SLAB_BYTES)).chunks;
    expect(views.length).toBeGreaterThan(10);
    const reusedBefore = engine.stats().slabsReused;
    for (let i = 200; i < 2000; i++) await log.append(textBatch([value(i)], { timestamp: T0 }));
    expect(log.logStartOffset()).toBeGreaterThan(start + views.length); // everything read was dropped meanwhile
    expect(engine.stats().slabsReused).toBeGreaterThan(reusedBefore); // and other slabs were reused
    views.forEach((view, i) => expect(view.equals(held[i])).toBe(true));
  });

  it('refuses input that is not whole batches and leaves the log unchanged', async () => {
    const { log } = await memoryLog();
    await log.append(textBatch(['ok']));
    const good = textBatch(['x', 'y']);
    await expect(log.append(Buffer.alloc(0))).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    await expect(log.append(good.subarray(0, good.length - 1))).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    await expect(log.append(Buffer.concat([good, Buffer.alloc(10)]))).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(log.highWatermark()).toBe(1);
    expect((await readAll(log)).map(valueText)).toEqual(['ok']);
  });

  it('answers time lookups in compressed batches with the first readable offset of the batch', async () => {
    const { log } = await memoryLog();
    await log.append(gzipBatch(textBatch(['a', 'b', 'c'], { timestamps: [T0, T0 + 50, T0 + 10] })));
    expect(await log.offsetForTime(T0 + 5)).toEqual({ offset: 0, timestamp: T0 + 50 });
    expect(await log.maxTimestamp()).toEqual({ offset: 0, timestamp: T0 + 50 });
    await log.deleteRecordsBefore(2);
    expect(await log.offsetForTime(T0 + 5)).toEqual({ offset: 2, timestamp: T0 + 50 });
    expect(await log.offsetForTime(T0 + 51)).toBeUndefined();
  });

  it('fails calls on a dropped partition or a closed engine with CLOSED', async () => {
    const { engine, log } = await memoryLog();
    await log.append(textBatch(['a']));
    await engine.dropPartition(P0);
    await expect(log.append(textBatch(['b']))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(log.read(0, 10)).rejects.toMatchObject({ code: 'CLOSED' });
    const other = await engine.openPartition({ topic: 'mem', partition: 1 }, KEEP);
    await engine.close();
    await expect(other.read(0, 10)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(engine.flush()).rejects.toMatchObject({ code: 'CLOSED' });
    await engine.close();
  });
});
