import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBatchHeader, validateBatches } from '../../runtime/storage/record-batch.js';
import type { SegmentStorageEngine, SegmentEngineOptions } from '../../runtime/storage/segment/engine.js';
import { readAll, tempDir, textBatch, valueText } from '../helpers/batches.js';
import { abandon, engineAt, KEEP, P0, partitionDir, segmentFiles, T0 } from './segment-helpers.js';

const OPTIONS: Partial<SegmentEngineOptions> = { segmentBytes: 2048, indexIntervalBytes: 128 };
const COUNT = 40;

describe('segment recovery', () => {
  let dir: string;
  const engines: SegmentStorageEngine[] = [];

  beforeEach(async () => {
    dir = await tempDir('robustmq-recovery-');
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close().catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  });

  /** Appends COUNT single-record batches `v0..` (timestamps T0 + i), then stops the engine cleanly or not. */
  async function fill(clean: boolean): Promise<void> {
    const engine = engineAt(dir, OPTIONS);
    const log = await engine.openPartition(P0, KEEP);
    for (let i = 0; i < COUNT; i++) await log.append(textBatch([`v${i}`.padEnd(60, '.')], { timestamp: T0 + i }));
    if (clean) await engine.close();
    else abandon(engine);
  }

  async function reopen() {
    const engine = engineAt(dir, OPTIONS);
    engines.push(engine);
    return { engine, log: await engine.openPartition(P0, KEEP) };
  }

  async function activeLog(): Promise<string> {
    return (await segmentFiles(dir, '.log')).at(-1)!;
  }

  /** Every record readable, offsets dense from the log start, every chunk a whole valid batch. */
  async function expectIntact(log: Awaited<ReturnType<typeof reopen>>['log'], count: number): Promise<void> {
    expect(log.highWatermark()).toBe(count);
    const records = await readAll(log, 0, 1);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(records.map((r) => valueText(r).replace(/\.+$/, ''))).toEqual(Array.from({ length: count }, (_, i) => `v${i}`));
    for (let o = 0; o < count; o += 5) {
      for (const chunk of (await log.read(o, 1 << 20)).chunks) expect(validateBatches(chunk)).toHaveLength(1);
      expect(await log.offsetForTime(T0 + o)).toEqual({ offset: o, timestamp: T0 + o });
    }
  }

  for (const clean of [true, false]) {
    const how = clean ? 'a clean close' : 'a crash';

    it(`truncates a torn tail after ${how}`, async () => {
      await fill(clean);
      const file = await activeLog();
      const size = (await fsp.stat(file)).size;
      const torn = textBatch(['torn']).subarray(0, 40);
      await fsp.appendFile(file, torn);
      const { engine, log } = await reopen();
      await expectIntact(log, COUNT);
      expect((await fsp.stat(file)).size).toBe(size);
      expect(engine.stats().recoveryTruncatedBytes).toBe(40);
      expect((await log.append(textBatch(['next']))).baseOffset).toBe(COUNT);
    });

    it(`drops a corrupted last batch after ${how}`, async () => {
      await fill(clean);
      const file = await activeLog();
      const bytes = await fsp.readFile(file);
      bytes[bytes.length - 3] ^= 0xff; // inside the last record: the CRC32C no longer matches
      await fsp.writeFile(file, bytes);
      const { log } = await reopen();
      await expectIntact(log, COUNT - 1);
      expect((await log.append(textBatch(['v39']))).baseOffset).toBe(COUNT - 1);
    });

    it(`rebuilds deleted index files of the active segment after ${how}`, async () => {
      await fill(clean);
      const file = await activeLog();
      await fsp.rm(file.replace(/\.log$/, '.index'), { force: true });
      await fsp.rm(file.replace(/\.log$/, '.timeindex'), { force: true });
      const { engine, log } = await reopen();
      expect(engine.stats().recoveryScannedBytes).toBe((await fsp.stat(file)).size);
      await expectIntact(log, COUNT);
    });
  }

  it('rebuilds missing or corrupt index files of sealed segments when first used', async () => {
    await fill(true);
    const logs = await segmentFiles(dir, '.log');
    expect(logs.length).toBeGreaterThan(2);
    await fsp.rm(logs[0].replace(/\.log$/, '.index'));
    await fsp.writeFile(logs[1].replace(/\.log$/, '.index'), Buffer.alloc(13, 0xff));
    await fsp.writeFile(logs[1].replace(/\.log$/, '.timeindex'), Buffer.alloc(24, 0));
    const { engine, log } = await reopen();
    expect(engine.stats().recoveryScannedBytes).toBe(0); // sealed segments are not scanned at open
    await expectIntact(log, COUNT);
    const rebuilt = await fsp.readFile(logs[1].replace(/\.log$/, '.index'));
    expect(rebuilt.length % 8).toBe(0);
    expect(rebuilt.length).toBeGreaterThan(0);
    expect((await fsp.stat(logs[0].replace(/\.log$/, '.timeindex'))).size % 12).toBe(0);
  });

  it('cuts the active segment at a corrupt batch in its middle after a crash', async () => {
    await fill(false);
    const file = await activeLog();
    const bytes = await fsp.readFile(file);
    const first = readBatchHeader(bytes);
    const second = readBatchHeader(bytes, first.size);
    bytes[first.size + second.size - 2] ^= 0x01;
    await fsp.writeFile(file, bytes);
    const { log } = await reopen();
    expect(log.highWatermark()).toBe(second.baseOffset);
    await expectIntact(log, second.baseOffset);
    expect((await fsp.stat(file)).size).toBe(first.size);
  });

  it('survives an unreadable checkpoint and removes leftovers of interrupted writes', async () => {
    await fill(true);
    const pdir = partitionDir(dir);
    await fsp.writeFile(join(pdir, 'partition.checkpoint'), '{not json');
    await fsp.writeFile(join(pdir, 'partition.checkpoint.tmp'), 'half');
    await fsp.writeFile(join(pdir, '00000000000000099999.index'), Buffer.alloc(8));
    const { log } = await reopen();
    await expectIntact(log, COUNT);
    const names = await fsp.readdir(pdir);
    expect(names).not.toContain('partition.checkpoint.tmp');
    expect(names).not.toContain('00000000000000099999.index');
  });

  it('keeps offsets moving forward when the log lost data below its recorded start', async () => {
    await fill(true);
    const engine = engineAt(dir, OPTIONS);
    await (await engine.openPartition(P0, KEEP)).deleteRecordsBefore(COUNT);
    await engine.close();
    for (const f of await segmentFiles(dir, '.log')) await fsp.truncate(f, 0); // as if the OS lost every write
    const { log } = await reopen();
    expect([log.logStartOffset(), log.highWatermark()]).toEqual([COUNT, COUNT]);
    expect((await log.append(textBatch(['again']))).baseOffset).toBe(COUNT);
  });
});
