import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool } from '../../runtime/storage/segment/file-pool.js';
import { IndexCache } from '../../runtime/storage/segment/index-cache.js';
import { checkOffsetIndex, checkTimeIndex } from '../../runtime/storage/segment/index-check.js';
import { OFFSET_LAYOUT, SparseIndex, TIME_LAYOUT } from '../../runtime/storage/segment/sparse-index.js';
import { tempDir } from '../helpers/batches.js';

describe('SparseIndex', () => {
  let dir: string;
  let pool: FilePool;
  beforeEach(async () => {
    dir = await tempDir('robustmq-index-');
    pool = new FilePool(8);
  });
  afterEach(async () => {
    pool.closeAll();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('answers floor lookups from the file and the unwritten tail, after eviction too', async () => {
    const cache = new IndexCache(1 << 20);
    const index = new SparseIndex(join(dir, 'a.index'), OFFSET_LAYOUT, pool, cache);
    for (let i = 1; i <= 300; i++) index.append(i * 10, i * 4096);
    await index.persist();
    for (let i = 301; i <= 310; i++) index.append(i * 10, i * 4096); // tail only
    expect(index.unpersisted).toBe(10);
    expect((await fsp.stat(index.path)).size).toBe(300 * 8);
    for (const evict of [false, true]) {
      if (evict) index.evict();
      expect(await index.floor(5)).toBeUndefined();
      expect(await index.floor(10)).toEqual({ key: 10, value: 4096 });
      expect(await index.floor(1234)).toEqual({ key: 1230, value: 123 * 4096 });
      expect(await index.floor(3055)).toEqual({ key: 3050, value: 305 * 4096 });
      expect(await index.floor(1e9)).toEqual({ key: 3100, value: 310 * 4096 });
    }
  });

  it('stays within the cache budget by evicting the least recently used index', async () => {
    const cache = new IndexCache(3000);
    const indexes = Array.from({ length: 4 }, (_, n) => {
      const index = new SparseIndex(join(dir, `${n}.timeindex`), TIME_LAYOUT, pool, cache);
      for (let i = 0; i < 100; i++) index.append(1_700_000_000_000 + i, i); // 1,200 bytes each
      return index;
    });
    for (const index of indexes) await index.persist();
    for (const index of indexes) {
      expect(await index.floor(1_700_000_000_050)).toEqual({ key: 1_700_000_000_050, value: 50 });
      expect(cache.usedBytes).toBeLessThanOrEqual(3000);
    }
    expect(cache.usedBytes).toBeGreaterThan(0);
  });

  it('starts over empty after reset', async () => {
    const index = new SparseIndex(join(dir, 'r.index'), OFFSET_LAYOUT, pool, new IndexCache(1 << 16));
    index.append(1, 100);
    await index.persist();
    await index.reset();
    expect(index.count).toBe(0);
    expect((await fsp.stat(index.path)).size).toBe(0);
    expect(await index.floor(5)).toBeUndefined();
  });
});

describe('index checks', () => {
  function offsets(entries: [number, number][]): Buffer {
    const buf = Buffer.alloc(entries.length * 8);
    entries.forEach(([k, v], i) => OFFSET_LAYOUT.write(buf, i, k, v));
    return buf;
  }
  function times(entries: [number, number][]): Buffer {
    const buf = Buffer.alloc(entries.length * 12);
    entries.forEach(([k, v], i) => TIME_LAYOUT.write(buf, i, k, v));
    return buf;
  }

  it('accepts well-formed offset indexes and names what is wrong with bad ones', () => {
    expect(checkOffsetIndex(offsets([]), 0)).toBeUndefined();
    expect(checkOffsetIndex(offsets([[5, 4100], [9, 8300]]), 9000)).toBeUndefined();
    expect(checkOffsetIndex(offsets([[5, 4100]]).subarray(0, 7), 9000)).toMatch(/whole number/);
    expect(checkOffsetIndex(offsets([[9, 4100], [5, 8300]]), 9000)).toMatch(/out of order/);
    expect(checkOffsetIndex(offsets([[5, 4100], [9, 4100]]), 9000)).toMatch(/out of order/);
    expect(checkOffsetIndex(offsets([[5, 9000]]), 9000)).toMatch(/past the log end/);
  });

  it('accepts well-formed time indexes and requires the final entry of a segment with data', () => {
    expect(checkTimeIndex(times([[100, 0], [200, 7]]), true)).toBeUndefined();
    expect(checkTimeIndex(times([]), false)).toBeUndefined();
    expect(checkTimeIndex(times([]), true)).toMatch(/empty/);
    expect(checkTimeIndex(times([[200, 0], [100, 7]]), true)).toMatch(/out of order/);
    expect(checkTimeIndex(times([[100, 7], [200, 3]]), true)).toMatch(/out of order/);
    expect(checkTimeIndex(times([[100, 0]]).subarray(0, 11), true)).toMatch(/whole number/);
  });
});
