/**
 * The StorageEngine conformance suite: every engine (memory, segment, s3) runs these same tests through a factory.
 * Only behaviour the interface promises is asserted here; engine-specific details go in each engine's own tests.
 */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORAGE_KINDS, type LogConfig, type PartitionId, type PartitionLog, type StorageEngine } from '../../runtime/storage/engine.js';
import { decodeRecords, encodeRecordBatch, readBatchHeader, validateBatches } from '../../runtime/storage/record-batch.js';
import { decodeChunks, readAll, tempDir, textBatch, texts, valueText } from '../helpers/batches.js';

export interface StorageFactory {
  name: string;
  /** True when data must survive close() and a new engine on the same directory. */
  persistent: boolean;
  create(dir: string): Promise<StorageEngine>;
}

const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };
const P0: PartitionId = { topic: 'conformance', partition: 0 };
const T0 = 1_700_000_000_000;

const outOfRange = { code: 'OFFSET_OUT_OF_RANGE' };

export function storageConformance(factory: StorageFactory): void {
  describe(`StorageEngine conformance: ${factory.name}`, () => {
    let dir: string;
    let open: StorageEngine[] = [];

    beforeEach(async () => {
      dir = await tempDir('robustmq-storage-');
    });
    afterEach(async () => {
      for (const e of open.splice(0)) await e.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function newEngine(): Promise<StorageEngine> {
      const e = await factory.create(dir);
      open.push(e);
      return e;
    }
    async function closeEngine(e: StorageEngine): Promise<void> {
      open = open.filter((x) => x !== e);
      await e.close();
    }
    async function newLog(config = KEEP, id = P0): Promise<PartitionLog> {
      return (await newEngine()).openPartition(id, config);
    }
    /** Appends `count` single-record batches `${prefix}0..` with timestamps T0 + i*1000. */
    async function appendSingles(log: PartitionLog, prefix: string, count: number): Promise<void> {
      for (let i = 0; i < count; i++) await log.append(textBatch([`${prefix}${i}`], { timestamp: T0 + i * 1000 }));
    }

    it('starts a partition empty and names a known kind', async () => {
      const engine = await newEngine();
      expect(STORAGE_KINDS).toContain(engine.kind);
      const log = await engine.openPartition(P0, KEEP);
      expect(log.id).toEqual(P0);
      expect([log.highWatermark(), log.logStartOffset(), log.sizeBytes()]).toEqual([0, 0, 0]);
      expect(await log.read(0, 1024)).toEqual({ chunks: [], bytes: 0, highWatermark: 0, logStartOffset: 0 });
      expect(await log.offsetForTime(0)).toBeUndefined();
      expect(await log.maxTimestamp()).toBeUndefined();
      await engine.flush();
    });

    it('assigns dense offsets from 0 across multi-record and multi-batch appends', async () => {
      const log = await newLog();
      expect(await log.append(textBatch(['a', 'b', 'c']))).toEqual({ baseOffset: 0, lastOffset: 2, logStartOffset: 0 });
      const two = Buffer.concat([textBatch(['d', 'e']), textBatch(['f', 'g', 'h', 'i'])]);
      expect(await log.append(two)).toEqual({ baseOffset: 3, lastOffset: 8, logStartOffset: 0 });
      expect(await log.append(textBatch(['j']))).toEqual({ baseOffset: 9, lastOffset: 9, logStartOffset: 0 });
      expect(log.highWatermark()).toBe(10);
      const records = await readAll(log);
      expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(records.map(valueText)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
      expect(log.sizeBytes()).toBeGreaterThan(0);
    });

    it('returns the appended bytes unchanged except for the rewritten base offset', async () => {
      const log = await newLog();
      await log.append(textBatch(['x', 'y', 'z']));
      const input = textBatch(['p', 'q'], { baseOffset: 999, producerId: 42, producerEpoch: 3, baseSequence: 7, keys: ['k', null] });
      const pristine = Buffer.from(input);
      await log.append(input);
      const { chunks } = await log.read(3, 1 << 20);
      expect(chunks).toHaveLength(1);
      expect(readBatchHeader(chunks[0]).baseOffset).toBe(3);
      expect(chunks[0].subarray(8).equals(pristine.subarray(8))).toBe(true);
      expect(validateBatches(chunks[0])).toHaveLength(1); // the CRC does not cover the base offset
      const records = decodeRecords(chunks[0]);
      expect(records.map((r) => [r.offset, r.key?.toString() ?? null, valueText(r)])).toEqual([
        [3, 'k', 'p'],
        [4, null, 'q'],
      ]);
    });

    it('keeps no reference to an appended buffer once the append resolved (the caller may fill it again)', async () => {
      const log = await newLog();
      const first = textBatch(['a1', 'a2', 'a3']);
      await log.append(first);
      first.fill(0xee);
      const second = textBatch(['b1']);
      await log.append(second);
      second.fill(0xee);
      expect((await readAll(log, 0)).map(valueText)).toEqual(['a1', 'a2', 'a3', 'b1']);
    });

    it('reads from the middle of a batch and across batch boundaries', async () => {
      const log = await newLog();
      for (let b = 0; b < 4; b++) await log.append(textBatch(texts(`b${b}-`, 5)));
      const mid = await log.read(7, 1 << 20);
      expect(readBatchHeader(mid.chunks[0]).baseOffset).toBe(5); // the whole batch holding offset 7
      expect(mid.chunks.map((c) => readBatchHeader(c).baseOffset)).toEqual([5, 10, 15]);
      expect(mid.bytes).toBe(mid.chunks.reduce((n, c) => n + c.length, 0));
      expect([mid.highWatermark, mid.logStartOffset]).toEqual([20, 0]);
      const records = decodeChunks(mid.chunks);
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => i + 5));
      expect(valueText(records.find((r) => r.offset === 7)!)).toBe('b1-2');
      const last = await log.read(19, 1 << 20);
      expect(decodeChunks(last.chunks).map(valueText)).toEqual(texts('b3-', 5));
    });

    it('answers empty at the high watermark and OFFSET_OUT_OF_RANGE beyond it or below the log start', async () => {
      const log = await newLog();
      await log.append(textBatch(texts('v', 10)));
      expect(await log.read(10, 1024)).toEqual({ chunks: [], bytes: 0, highWatermark: 10, logStartOffset: 0 });
      await expect(log.read(11, 1024)).rejects.toMatchObject(outOfRange);
      await expect(log.read(-1, 1024)).rejects.toMatchObject(outOfRange);
      await log.deleteRecordsBefore(4);
      await expect(log.read(3, 1024)).rejects.toMatchObject(outOfRange);
      const atStart = await log.read(4, 1024);
      expect(atStart.logStartOffset).toBe(4);
      expect(decodeChunks(atStart.chunks).filter((r) => r.offset >= 4).map(valueText)).toEqual(texts('v', 10).slice(4));
    });

    it('honours maxBytes but always returns at least one whole batch', async () => {
      const log = await newLog();
      for (let i = 0; i < 10; i++) await log.append(textBatch([`${i}`.padStart(100, '.')]));
      const size = (await log.read(0, 1)).chunks[0].length;
      const count = async (offset: number, maxBytes: number) => (await log.read(offset, maxBytes)).chunks.length;
      expect(await count(0, 0)).toBe(1);
      expect(await count(0, 1)).toBe(1);
      expect(await count(0, size * 3)).toBe(3);
      expect(await count(0, size * 4 - 1)).toBe(3);
      expect(await count(8, size * 5)).toBe(2);
      const r = await log.read(5, size * 2);
      expect(r.bytes).toBe(size * 2);
      expect(r.chunks.map((c) => readBatchHeader(c).baseOffset)).toEqual([5, 6]);
      for (const c of r.chunks) expect(validateBatches(c)).toHaveLength(1);
    });

    it('finds offsets by time and the maximum timestamp', async () => {
      const log = await newLog();
      await log.append(textBatch(['a', 'b', 'c'], { timestamps: [T0, T0 + 10, T0 + 20] })); // 0..2
      await log.append(textBatch(['d', 'e'], { timestamps: [T0 + 30, T0 + 40] })); // 3..4
      await log.append(textBatch(['f'], { timestamp: T0 + 2000 })); // 5
      await log.append(textBatch(['g', 'h'], { timestamps: [T0 + 1500, T0 + 2000] })); // 6..7, out of order
      expect(await log.offsetForTime(0)).toEqual({ offset: 0, timestamp: T0 });
      expect(await log.offsetForTime(T0)).toEqual({ offset: 0, timestamp: T0 });
      expect(await log.offsetForTime(T0 + 15)).toEqual({ offset: 2, timestamp: T0 + 20 });
      expect(await log.offsetForTime(T0 + 35)).toEqual({ offset: 4, timestamp: T0 + 40 });
      expect(await log.offsetForTime(T0 + 1400)).toEqual({ offset: 5, timestamp: T0 + 2000 });
      expect(await log.offsetForTime(T0 + 2001)).toBeUndefined();
      expect(await log.maxTimestamp()).toEqual({ offset: 5, timestamp: T0 + 2000 }); // first offset at the maximum
      await log.append(textBatch(['i', 'j'], { timestamps: [T0 + 3000, T0 + 2500] })); // 8..9
      expect(await log.maxTimestamp()).toEqual({ offset: 8, timestamp: T0 + 3000 });
    });

    it('never answers a time lookup with an offset below the log start', async () => {
      const log = await newLog();
      await log.append(textBatch(['a', 'b', 'c', 'd'], { timestamps: [T0 + 900, T0 + 100, T0 + 200, T0 + 300] }));
      await log.append(textBatch(['e'], { timestamp: T0 + 400 }));
      await log.deleteRecordsBefore(2);
      expect(await log.offsetForTime(0)).toEqual({ offset: 2, timestamp: T0 + 200 });
      expect(await log.offsetForTime(T0 + 350)).toEqual({ offset: 4, timestamp: T0 + 400 });
      expect(await log.maxTimestamp()).toEqual({ offset: 4, timestamp: T0 + 400 });
    });

    it('moves the log start with deleteRecordsBefore', async () => {
      const log = await newLog();
      await log.append(textBatch(texts('a', 5)));
      await log.append(textBatch(texts('b', 5)));
      expect(await log.deleteRecordsBefore(3)).toBe(3);
      expect([log.logStartOffset(), log.highWatermark()]).toEqual([3, 10]);
      expect(await log.deleteRecordsBefore(1)).toBe(3); // never moves back
      expect((await readAll(log)).map(valueText)).toEqual([...texts('a', 5).slice(3), ...texts('b', 5)]);
      await expect(log.deleteRecordsBefore(11)).rejects.toMatchObject(outOfRange);
      expect(await log.deleteRecordsBefore(7)).toBe(7);
      expect((await readAll(log)).map((r) => r.offset)).toEqual([7, 8, 9]);
      expect(await log.deleteRecordsBefore(10)).toBe(10);
      expect(await log.read(10, 1024)).toEqual({ chunks: [], bytes: 0, highWatermark: 10, logStartOffset: 10 });
      expect(await log.append(textBatch(['c']))).toEqual({ baseOffset: 10, lastOffset: 10, logStartOffset: 10 });
      expect((await readAll(log)).map(valueText)).toEqual(['c']);
    });

    it('applies time retention without losing newer records or the high watermark', async () => {
      const log = await newLog({ retentionMs: 95_000, retentionBytes: -1 });
      for (let i = 0; i < 10; i++) await log.append(textBatch([`r${i}a`, `r${i}b`], { timestamps: [T0 + i * 1000, T0 + i * 1000 + 10] }));
      // Cutoff T0 + 5000: batches 0..4 (offsets 0..9) are older, batch 5 (offsets 10..11) is not.
      const start = await log.enforceRetention(T0 + 100_000);
      expect(start).toBe(log.logStartOffset());
      expect(start).toBeLessThanOrEqual(10);
      expect(log.highWatermark()).toBe(20);
      expect((await readAll(log, 10)).map(valueText)).toEqual(texts('r', 10).slice(5).flatMap((v) => [`${v}a`, `${v}b`]));
      expect(await log.enforceRetention(T0 + 1_000_000)).toBe(20); // everything expired
      expect([log.logStartOffset(), log.highWatermark()]).toEqual([20, 20]);
      await expect(log.read(19, 1024)).rejects.toMatchObject(outOfRange);
      expect((await log.read(20, 1024)).chunks).toEqual([]);
      expect((await log.append(textBatch(['new'], { timestamp: T0 + 1_000_000 }))).baseOffset).toBe(20);
      expect(await log.enforceRetention(T0 + 1_000_000)).toBe(20);
      expect((await readAll(log)).map(valueText)).toEqual(['new']);
    });

    it('applies size retention from the oldest records', async () => {
      const log = await newLog();
      for (let i = 0; i < 20; i++) await log.append(textBatch([`${i}`.padStart(500, '-')], { timestamp: T0 }));
      const total = log.sizeBytes();
      expect(await log.enforceRetention(T0)).toBe(0); // unbounded: nothing goes
      const limit = Math.floor(total / 3);
      log.updateConfig({ retentionMs: -1, retentionBytes: limit });
      const start = await log.enforceRetention(T0);
      expect(start).toBeGreaterThan(0);
      expect(log.sizeBytes()).toBeLessThanOrEqual(limit);
      expect(log.highWatermark()).toBe(20);
      await expect(log.read(start - 1, 1024)).rejects.toMatchObject(outOfRange);
      expect((await readAll(log)).map((r) => r.offset)).toEqual(Array.from({ length: 20 - start }, (_, i) => start + i));
    });

    it('applies updated retention settings to an open log', async () => {
      const log = await newLog();
      await appendSingles(log, 'u', 5);
      expect(await log.enforceRetention(T0 + 10_000_000)).toBe(0);
      log.updateConfig({ retentionMs: 1000, retentionBytes: -1 });
      expect(await log.enforceRetention(T0 + 10_000_000)).toBe(5);
      log.updateConfig(KEEP);
      await appendSingles(log, 'w', 3);
      expect(await log.enforceRetention(T0 + 10_000_000)).toBe(5);
      expect((await readAll(log)).map(valueText)).toEqual(texts('w', 3));
    });

    it('gives 200 concurrent appends distinct dense offsets', async () => {
      const log = await newLog();
      const sizes = Array.from({ length: 200 }, (_, i) => (i % 3) + 1);
      const results = await Promise.all(sizes.map((n, i) => log.append(textBatch(texts(`c${i}-`, n)))));
      results.forEach((r, i) => expect(r.lastOffset - r.baseOffset + 1).toBe(sizes[i]));
      const sorted = [...results].sort((a, b) => a.baseOffset - b.baseOffset);
      expect(sorted[0].baseOffset).toBe(0);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].baseOffset).toBe(sorted[i - 1].lastOffset + 1);
      const total = sizes.reduce((a, b) => a + b, 0);
      expect(log.highWatermark()).toBe(total);
      const records = await readAll(log);
      expect(new Set(records.map(valueText)).size).toBe(total);
      const byValue = new Map(records.map((r) => [valueText(r), r.offset]));
      results.forEach((r, i) => {
        for (let j = 0; j < sizes[i]; j++) expect(byValue.get(`c${i}-${j}`)).toBe(r.baseOffset + j);
      });
    });

    it('keeps partitions independent', async () => {
      const engine = await newEngine();
      const ids: PartitionId[] = [
        { topic: 'alpha', partition: 0 },
        { topic: 'alpha', partition: 1 },
        { topic: 'alpha-1', partition: 0 },
      ];
      const logs = await Promise.all(ids.map((id) => engine.openPartition(id, KEEP)));
      expect(await engine.openPartition(ids[0], KEEP)).toBe(logs[0]);
      await Promise.all(logs.map((log, i) => log.append(textBatch(texts(`p${i}-`, i + 2)))));
      expect(logs.map((l) => l.highWatermark())).toEqual([2, 3, 4]);
      await logs[1].deleteRecordsBefore(2);
      expect(logs.map((l) => l.logStartOffset())).toEqual([0, 2, 0]);
      expect((await readAll(logs[0])).map(valueText)).toEqual(texts('p0-', 2));
      expect((await readAll(logs[1])).map(valueText)).toEqual(texts('p1-', 3).slice(2));
      expect((await readAll(logs[2])).map(valueText)).toEqual(texts('p2-', 4));
    });

    it('drops a partition and its data', async () => {
      const engine = await newEngine();
      const a = await engine.openPartition({ topic: 'drop', partition: 0 }, KEEP);
      const b = await engine.openPartition({ topic: 'drop', partition: 1 }, KEEP);
      await a.append(textBatch(texts('a', 3)));
      await b.append(textBatch(texts('b', 2)));
      await engine.dropPartition({ topic: 'drop', partition: 0 });
      await engine.dropPartition({ topic: 'never-opened', partition: 7 });
      const again = await engine.openPartition({ topic: 'drop', partition: 0 }, KEEP);
      expect([again.highWatermark(), again.logStartOffset(), again.sizeBytes()]).toEqual([0, 0, 0]);
      expect((await again.read(0, 1024)).chunks).toEqual([]);
      expect((await readAll(b)).map(valueText)).toEqual(texts('b', 2));
      expect((await again.append(textBatch(['fresh']))).baseOffset).toBe(0);
    });

    it('stores and serves a 1 MiB record', async () => {
      const log = await newLog();
      const big = Buffer.alloc(1024 * 1024, 7);
      big.write('head', 0);
      await log.append(textBatch(['before']));
      await log.append(encodeRecordBatch([{ key: Buffer.from('big'), value: big }]));
      await log.append(textBatch(['after']));
      expect(log.sizeBytes()).toBeGreaterThan(big.length);
      expect((await log.read(0, 4096)).chunks).toHaveLength(1); // the big batch does not fit
      const { chunks } = await log.read(1, 1);
      expect(chunks).toHaveLength(1);
      const [record] = decodeRecords(chunks[0]);
      expect(record.offset).toBe(1);
      expect(record.value!.equals(big)).toBe(true);
      expect((await readAll(log)).map((r) => r.offset)).toEqual([0, 1, 2]);
    });

    it('refuses use after close', async () => {
      const engine = await newEngine();
      await (await engine.openPartition(P0, KEEP)).append(textBatch(['a']));
      await closeEngine(engine);
      await expect(engine.openPartition(P0, KEEP)).rejects.toMatchObject({ code: 'CLOSED' });
    });

    if (factory.persistent) {
      it('keeps data, offsets, log start and timestamps across close and reopen', async () => {
        const idA: PartitionId = { topic: 'durable', partition: 0 };
        const idB: PartitionId = { topic: 'durable', partition: 1 };
        const first = await newEngine();
        const a = await first.openPartition(idA, KEEP);
        const b = await first.openPartition(idB, KEEP);
        await a.append(textBatch(['a0', 'a1', 'a2'], { timestamps: [T0, T0 + 5, T0 + 10] }));
        await a.append(textBatch(['a3', 'a4'], { timestamps: [T0 + 20, T0 + 15] }));
        await a.deleteRecordsBefore(1);
        await b.append(textBatch(texts('b', 4), { timestamp: T0 + 100 }));
        const before = await snapshot(a);
        const beforeB = await snapshot(b);
        await closeEngine(first);

        const second = await newEngine();
        const a2 = await second.openPartition(idA, KEEP);
        const b2 = await second.openPartition(idB, KEEP);
        expect(await snapshot(a2)).toEqual(before);
        expect(await snapshot(b2)).toEqual(beforeB);
        expect(before.highWatermark).toBe(5);
        expect(before.logStartOffset).toBe(1);
        expect((await a2.append(textBatch(['a5']))).baseOffset).toBe(5);
      });

      it('keeps a dropped partition dropped after reopen', async () => {
        const first = await newEngine();
        await (await first.openPartition(P0, KEEP)).append(textBatch(texts('gone', 3)));
        await first.dropPartition(P0);
        await closeEngine(first);
        const log = await (await newEngine()).openPartition(P0, KEEP);
        expect([log.highWatermark(), log.logStartOffset()]).toEqual([0, 0]);
      });
    }
  });
}

async function snapshot(log: PartitionLog) {
  return {
    highWatermark: log.highWatermark(),
    logStartOffset: log.logStartOffset(),
    records: (await readAll(log)).map((r) => [r.offset, r.timestamp, valueText(r)]),
    firstAfter: await log.offsetForTime(T0 + 12),
    max: await log.maxTimestamp(),
  };
}
