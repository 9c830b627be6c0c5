import { promises as fsp, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBatchHeader, validateBatches } from '../../runtime/storage/record-batch.js';
import type { SegmentStorageEngine } from '../../runtime/storage/segment/engine.js';
import { readAll, tempDir, textBatch, texts, valueText } from '../helpers/batches.js';
import { until } from '../helpers/groups.js';
import { abandon, engineAt, KEEP, P0, partitionDir, segmentFiles, T0 } from './segment-helpers.js';

describe('SegmentStorageEngine', () => {
  let dir: string;
  const engines: SegmentStorageEngine[] = [];
  const track = (e: SegmentStorageEngine): SegmentStorageEngine => (engines.push(e), e);

  beforeEach(async () => {
    dir = await tempDir('robustmq-segment-');
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close().catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('lays out <topic>-<partition> directories of segments named by base offset, rolled by size', async () => {
    const engine = track(engineAt(dir, { segmentBytes: 1000 }));
    expect(engine.kind).toBe('segment');
    const log = await engine.openPartition({ topic: 'orders.v1', partition: 3 }, KEEP);
    for (let i = 0; i < 12; i++) await log.append(textBatch([`${i}`.padStart(250, '.')], { timestamp: T0 + i }));
    await engine.close();
    const id = { topic: 'orders.v1', partition: 3 };
    const logs = await segmentFiles(dir, '.log', id);
    expect(logs.length).toBeGreaterThan(3);
    expect(readdirSync(dir)).toEqual(['orders.v1-3']);
    for (const file of logs) {
      const bytes = await fsp.readFile(file);
      expect(bytes.length).toBeLessThanOrEqual(1000);
      expect(readBatchHeader(bytes).baseOffset).toBe(Number(basename(file, '.log')));
      expect(basename(file)).toMatch(/^\d{20}\.log$/);
    }
    const names = readdirSync(partitionDir(dir, id));
    for (const file of logs) {
      const base = basename(file, '.log');
      expect(names).toContain(`${base}.index`);
      expect(names).toContain(`${base}.timeindex`);
    }
    expect(names).toContain('partition.checkpoint');
  });

  it('rolls a non-empty segment once it is older than segmentMs', async () => {
    const engine = track(engineAt(dir, { segmentMs: 400 }));
    const log = await engine.openPartition(P0, KEEP);
    await log.append(textBatch(['a']));
    await log.append(textBatch(['b']));
    await new Promise((r) => setTimeout(r, 500));
    await log.append(textBatch(['c']));
    expect((await segmentFiles(dir, '.log')).map((f) => basename(f))).toEqual([
      '00000000000000000000.log',
      '00000000000000000002.log',
    ]);
    expect((await readAll(log)).map(valueText)).toEqual(['a', 'b', 'c']);
  });

  it('keeps a sparse offset index every indexIntervalBytes and reads every offset through it, before and after reopen', async () => {
    const options = { segmentBytes: 8192, indexIntervalBytes: 256 };
    const engine = engineAt(dir, options);
    const log = await engine.openPartition(P0, KEEP);
    for (let i = 0; i < 200; i++) await log.append(textBatch([`v${i}`, `w${i}`], { timestamps: [T0 + 2 * i, T0 + 2 * i + 1] }));
    const check = async (l: typeof log): Promise<void> => {
      for (let offset = 0; offset < 400; offset += 7) {
        const { chunks } = await l.read(offset, 1);
        expect(chunks).toHaveLength(1);
        expect(readBatchHeader(chunks[0]).baseOffset).toBe(offset - (offset % 2));
        expect(await l.offsetForTime(T0 + offset)).toEqual({ offset, timestamp: T0 + offset });
      }
    };
    await check(log);
    await engine.close();
    const indexes = await segmentFiles(dir, '.index');
    const sizes = await Promise.all(indexes.map(async (f) => (await fsp.stat(f)).size));
    const logBytes = (await Promise.all((await segmentFiles(dir, '.log')).map(async (f) => (await fsp.stat(f)).size))).reduce((a, b) => a + b);
    const entries = sizes.reduce((a, b) => a + b) / 8;
    expect(entries).toBeGreaterThan(logBytes / 256 / 2 - indexes.length);
    expect(entries).toBeLessThanOrEqual(logBytes / 256);
    const again = track(engineAt(dir, options));
    await check(await again.openPartition(P0, KEEP));
  });

  it('group-commits concurrent appends under flush always: fewer fdatasyncs than appends, all acknowledged durable', async () => {
    const engine = track(engineAt(dir));
    const log = await engine.openPartition(P0, KEEP);
    await log.append(textBatch(['warm']));
    const before = engine.stats().syncs;
    const results = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const r = await log.append(textBatch([`p${i}`]));
        expect(log.highWatermark()).toBeGreaterThan(r.lastOffset); // visible once acknowledged
        return r;
      }),
    );
    const syncs = engine.stats().syncs - before;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(16);
    expect(new Set(results.map((r) => r.baseOffset)).size).toBe(64);
  });

  it('shows readers only acknowledged appends', async () => {
    const engine = track(engineAt(dir));
    const log = await engine.openPartition(P0, KEEP);
    const pending = log.append(textBatch(['x']));
    expect(log.highWatermark()).toBe(0);
    expect(await log.read(0, 100)).toMatchObject({ chunks: [], highWatermark: 0 });
    await pending;
    expect(log.highWatermark()).toBe(1);
  });

  it('takes the flush policy from LogConfig.flush, else the engine default', async () => {
    const engine = track(engineAt(dir, { flush: { mode: 'os' } }));
    const osLog = await engine.openPartition({ topic: 'os', partition: 0 }, KEEP);
    const alwaysLog = await engine.openPartition({ topic: 'always', partition: 0 }, { ...KEEP, flush: { mode: 'always' } });
    const INTERVAL = 2000; // long enough that the five appends cannot outlast it even on a busy machine
    const intervalLog = await engine.openPartition({ topic: 'interval', partition: 0 }, { ...KEEP, flush: { mode: 'interval', intervalMs: INTERVAL } });
    for (let i = 0; i < 5; i++) await osLog.append(textBatch([`${i}`]));
    expect(engine.stats().syncs).toBe(0);
    for (let i = 0; i < 5; i++) await alwaysLog.append(textBatch([`${i}`]));
    expect(engine.stats().syncs).toBe(5);
    const firstAppend = Date.now();
    for (let i = 0; i < 5; i++) await intervalLog.append(textBatch([`${i}`]));
    const lastAppend = Date.now();
    expect(engine.stats().syncs).toBe(5); // not yet: within the interval
    await until(() => engine.stats().syncs >= 6, INTERVAL + 5000);
    expect(Date.now() - firstAppend).toBeGreaterThanOrEqual(INTERVAL - 5); // no earlier than the interval
    // Any timer started by a later append would have fired by now: still one sync for all five.
    await new Promise((r) => setTimeout(r, Math.max(0, lastAppend + INTERVAL + 100 - Date.now())));
    expect(engine.stats().syncs).toBe(6);
    osLog.updateConfig({ ...KEEP, flush: { mode: 'always' } });
    await osLog.append(textBatch(['now synced']));
    expect(engine.stats().syncs).toBe(7);
    await engine.flush();
  });

  it('deletes whole segment files for DeleteRecords and retention, and keeps the log start across reopen', async () => {
    const engine = engineAt(dir, { segmentBytes: 600 });
    const log = await engine.openPartition(P0, KEEP);
    for (let i = 0; i < 10; i++) await log.append(textBatch([`${i}`.padStart(200, '.')], { timestamp: T0 + i * 1000 }));
    const segmentsBefore = (await segmentFiles(dir, '.log')).length;
    expect(await log.deleteRecordsBefore(5)).toBe(5);
    const remaining = (await segmentFiles(dir, '.log')).map((f) => Number(basename(f, '.log')));
    expect(remaining.length).toBeLessThan(segmentsBefore);
    expect(remaining[0]).toBeLessThanOrEqual(5); // the segment holding offset 5 stays whole
    // Every sealed segment has its index files; the active one gets them written out in batches and at close.
    expect((await segmentFiles(dir, '.index')).length).toBeGreaterThanOrEqual(remaining.length - 1);
    log.updateConfig({ retentionMs: 3500, retentionBytes: -1 });
    const start = await log.enforceRetention(T0 + 10_000); // batches up to T0+6000 are older
    expect(start).toBeGreaterThan(5);
    expect(start).toBeLessThanOrEqual(7);
    abandon(engine); // even without a clean close the log start survives: it is checkpointed when it moves
    const again = track(engineAt(dir, { segmentBytes: 600 }));
    const reopened = await again.openPartition(P0, KEEP);
    expect([reopened.logStartOffset(), reopened.highWatermark()]).toEqual([start, 10]);
    expect((await readAll(reopened)).map((r) => r.offset)).toEqual(Array.from({ length: 10 - start }, (_, i) => start + i));
    await expect(reopened.read(start - 1, 100)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('serves only whole valid batches to readers racing with appends, rolls and retention', async () => {
    const engine = track(engineAt(dir, { flush: { mode: 'os' }, segmentBytes: 900, indexIntervalBytes: 100, maxOpenFiles: 6 }));
    const log = await engine.openPartition(P0, { retentionMs: -1, retentionBytes: 6000 });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 400; i++) await log.append(textBatch(texts(`${i}-`, 1 + (i % 3)), { timestamp: T0 + i }));
      writing = false;
    })();
    const trimmer = (async () => {
      while (writing) {
        await log.enforceRetention(T0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const from = log.logStartOffset();
        try {
          const { chunks } = await log.read(from, 2000);
          for (const c of chunks) expect(validateBatches(c)).toHaveLength(1);
          if (chunks.length) expect(readBatchHeader(chunks[0]).baseOffset + readBatchHeader(chunks[0]).lastOffsetDelta).toBeGreaterThanOrEqual(from);
          reads++;
        } catch (err) {
          expect(err).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' }); // retention passed the offset meanwhile
        }
        await new Promise((r) => setImmediate(r)); // a read at the high watermark does no I/O: let the writer run
      }
    })();
    await Promise.all([writer, trimmer, reader]);
    expect(reads).toBeGreaterThan(10);
    await log.enforceRetention(T0);
    expect(log.sizeBytes()).toBeLessThanOrEqual(6000);
    const tail = await readAll(log);
    expect(tail.at(-1)?.offset).toBe(log.highWatermark() - 1);
  });

  it('takes only the failing partition offline on a write-path I/O error', async () => {
    const engine = track(engineAt(dir, { maxOpenFiles: 1 }));
    const a = await engine.openPartition({ topic: 'a', partition: 0 }, KEEP);
    const b = await engine.openPartition({ topic: 'b', partition: 0 }, KEEP);
    await a.append(textBatch(['a0']));
    await b.append(textBatch(['b0'])); // evicts a's descriptor
    const [aLog] = await segmentFiles(dir, '.log', { topic: 'a', partition: 0 });
    await fsp.rm(aLog);
    await expect(a.append(textBatch(['a1']))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retriable: true });
    await expect(a.append(textBatch(['a2']))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(a.highWatermark()).toBe(1);
    expect((await b.append(textBatch(['b1']))).baseOffset).toBe(1);
    expect((await readAll(b)).map(valueText)).toEqual(['b0', 'b1']);
  });

  it('removes the partition directory when a partition is dropped', async () => {
    const engine = track(engineAt(dir));
    const log = await engine.openPartition(P0, KEEP);
    await log.append(textBatch(texts('d', 3)));
    await engine.dropPartition(P0);
    await expect(fsp.stat(partitionDir(dir))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(log.append(textBatch(['late']))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(log.read(0, 10)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses partition ids that would escape the data directory', async () => {
    const engine = track(engineAt(dir));
    await expect(engine.openPartition({ topic: '../x', partition: 0 }, KEEP)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.openPartition({ topic: 'ok', partition: -1 }, KEEP)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => engineAt(dir, { segmentBytes: 0 })).toThrow(/segmentBytes/);
  });

  it('serves 200 partitions with at most maxOpenFiles descriptors and a bounded index cache', async () => {
    const engine = track(engineAt(dir, { flush: { mode: 'os' }, maxOpenFiles: 32, segmentBytes: 700, indexIntervalBytes: 128, indexCacheBytes: 4096 }));
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const ids = Array.from({ length: 200 }, (_, p) => ({ topic: 'many', partition: p }));
    const logs = await Promise.all(ids.map((id) => engine.openPartition(id, KEEP)));
    for (let round = 0; round < 3; round++) {
      await Promise.all(logs.map((log, p) => log.append(textBatch([`${p}:${round}`.padEnd(300, '.')]))));
    }
    for (const [p, log] of logs.entries()) {
      const values = (await readAll(log, 0, 1)).map((r) => valueText(r).replace(/\.+$/, ''));
      expect(values).toEqual(Array.from({ length: 3 }, (_, round) => `${p}:${round}`));
      expect(engine.stats().openFiles).toBeLessThanOrEqual(32);
      expect(engine.stats().indexCacheBytes).toBeLessThanOrEqual(4096);
    }
    const fdsNow = () => readdirSync('/proc/self/fd').length - fdsBefore;
    await until(() => fdsNow() <= 32); // descriptors close asynchronously
    expect(fdsNow()).toBeLessThanOrEqual(32);
  });

  it('scans no segment after a clean close and only the active segment after a crash', async () => {
    const options = { segmentBytes: 1024, flush: { mode: 'os' as const } };
    const first = engineAt(dir, options);
    const log = await first.openPartition(P0, KEEP);
    for (let i = 0; i < 30; i++) await log.append(textBatch([`${i}`.padStart(100, '.')]));
    await first.close();
    const second = engineAt(dir, options);
    const reopened = await second.openPartition(P0, KEEP);
    expect(second.stats().recoveryScannedBytes).toBe(0);
    await reopened.append(textBatch(['after']));
    abandon(second);
    const logs = await segmentFiles(dir, '.log');
    const activeSize = (await fsp.stat(logs[logs.length - 1])).size;
    const third = track(engineAt(dir, options));
    const recovered = await third.openPartition(P0, KEEP);
    expect(logs.length).toBeGreaterThan(3);
    expect(third.stats().recoveryScannedBytes).toBe(activeSize);
    expect(recovered.highWatermark()).toBe(31);
    expect((await readAll(recovered)).map(valueText).at(-1)).toBe('after');
  });
});
