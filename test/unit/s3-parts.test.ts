/** Pure parts of the S3 engine: object layout, meta entry encoding, block parsing, the LRU cache, the index, retries. */
import { describe, expect, it } from 'vitest';
import { RobustMQError } from '../../runtime/errors.js';
import { Block } from '../../runtime/storage/s3/block.js';
import { buildObject, selectAppends, type PendingAppend } from '../../runtime/storage/s3/build.js';
import { BlockCache } from '../../runtime/storage/s3/cache.js';
import { recentPrefixes } from '../../runtime/storage/s3/catalog.js';
import { decodeRanges, encodeItem, type DecodedRange } from '../../runtime/storage/s3/format.js';
import { S3Keys } from '../../runtime/storage/s3/keys.js';
import { PartitionIndex, type IndexEntry } from '../../runtime/storage/s3/partition-index.js';
import type { S3PartitionLog } from '../../runtime/storage/s3/partition.js';
import { backoffDelay, isRetriable } from '../../runtime/storage/s3/retry.js';
import { readBatchHeader } from '../../runtime/storage/record-batch.js';
import { decodeChunks, textBatch, valueText } from '../helpers/batches.js';

/** Just enough of a partition for buildObject. */
function fakePart(topic: string, partition: number, hw: number): S3PartitionLog {
  return { id: { topic, partition }, state: { incarnation: partition + 1 }, highWatermark: () => hw } as unknown as S3PartitionLog;
}

function pending(part: S3PartitionLog, values: string[], ts = 1000): PendingAppend {
  const data = textBatch(values, { timestamp: ts });
  return {
    part,
    data,
    headers: [readBatchHeader(data)],
    deadline: Infinity,
    enqueuedAt: 0,
    settled: false,
    baseOffset: -1,
    lastOffset: -1,
    done: Promise.resolve(),
    resolve: () => undefined,
    reject: () => undefined,
  };
}

describe('object layout', () => {
  it('groups appends per partition, assigns offsets from each committed end and records byte ranges', () => {
    const p0 = fakePart('t', 0, 10);
    const p1 = fakePart('t', 1, 0);
    const appends = [pending(p0, ['a', 'b'], 5), pending(p1, ['x']), pending(p0, ['c'], 9)];
    const built = buildObject(appends, 7);
    expect(built.ranges.map((r) => [r.partition, r.baseOffset, r.lastOffset, r.position, r.maxTimestamp, r.leaderEpoch])).toEqual([
      [0, 10, 12, 0, 9, 7],
      [1, 0, 0, built.ranges[0].size, 1000, 7],
    ]);
    expect(appends.map((a) => [a.baseOffset, a.lastOffset])).toEqual([[10, 11], [0, 0], [12, 12]]);
    const r0 = built.ranges[0];
    const chunk = built.body.subarray(r0.position, r0.position + r0.size);
    expect(decodeChunks([chunk.subarray(0, appends[0].data.length), chunk.subarray(appends[0].data.length)]).map((r) => [r.offset, valueText(r)])).toEqual([
      [10, 'a'],
      [11, 'b'],
      [12, 'c'],
    ]);
    expect(built.body.length).toBe(built.ranges.reduce((n, r) => n + r.size, 0));
  });

  it('takes at most maxBytes and maxPartitions per object without reordering a partition', () => {
    const parts = [0, 1, 2].map((p) => fakePart('t', p, 0));
    const buffer = [pending(parts[0], ['1']), pending(parts[1], ['2']), pending(parts[2], ['3']), pending(parts[0], ['4'])];
    const byParts = selectAppends(buffer, 1 << 20, 2);
    expect(byParts.take).toEqual([buffer[0], buffer[1], buffer[3]]);
    expect(byParts.keep).toEqual([buffer[2]]);
    const byBytes = selectAppends(buffer, buffer[0].data.length + 1, 10);
    expect(byBytes.take).toEqual([buffer[0]]);
    expect(byBytes.keep).toEqual(buffer.slice(1));
  });

  it('encodes ranges compactly and decodes them back', () => {
    const ranges: DecodedRange[] = [
      { topic: 'a', partition: 0, incarnation: 1, baseOffset: 0, lastOffset: 4, position: 0, size: 100, maxTimestamp: 5, leaderEpoch: 2 },
      { topic: 'b', partition: 3, incarnation: 2, baseOffset: 9, lastOffset: 9, position: 100, size: 70, maxTimestamp: 6, leaderEpoch: 2 },
      { topic: 'a', partition: 0, incarnation: 1, baseOffset: 5, lastOffset: 6, position: 170, size: 80, maxTimestamp: 7, leaderEpoch: 2 },
    ];
    const item = encodeItem(ranges, { createdAt: 10, writer: 'w', epoch: 2 });
    expect(item).toMatchObject({ topics: ['a', 'b'], size: 250 });
    expect(item.ranges[1]).toEqual([1, 3, 2, 9, 1, 70, -4]);
    expect(decodeRanges(JSON.parse(JSON.stringify(item)))).toEqual(ranges);
    expect(() => decodeRanges({ ...item, ranges: [[5, 0, 1, 0, 1, 1, 0]] })).toThrow(RobustMQError);
    expect(() => encodeItem([{ ...ranges[0], position: 3 }], { createdAt: 0, writer: 'w', epoch: 1 })).toThrow(/layout/);
  });

  it('names objects in time order, uniquely, under the prefix', () => {
    const keys = new S3Keys('bucket', 'pre');
    const a = keys.newObjectKey(1000);
    const b = keys.newObjectKey(1000);
    expect(a).toMatch(/^pre\/objects\/0000000001000-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(keys.newObjectKey(999) < keys.newObjectKey(1000)).toBe(true);
    expect(keys.objectKeyOf(keys.metaObjectKey(a))).toBe(a);
  });

  it('covers a time window with a few key prefixes', () => {
    const prefixes = recentPrefixes('p/', 1_700_000_012_345, 1_700_000_135_000);
    expect(prefixes).toEqual(['p/17000000', 'p/17000001']); // 100-second buckets
    const keys = new S3Keys('b', 'p');
    for (const t of [1_700_000_012_345, 1_700_000_099_999, 1_700_000_135_000]) {
      const key = keys.newObjectKey(t).slice('p/objects/'.length);
      expect(prefixes.some((prefix) => `p/${key}`.startsWith(prefix))).toBe(true);
    }
    expect(recentPrefixes('p/', 5_000, 5_000)).toEqual(['p/0000000005000']);
  });
});

describe('blocks and the cache', () => {
  const data = Buffer.concat([textBatch(['a', 'b'], { baseOffset: 5, timestamp: 10 }), textBatch(['c'], { baseOffset: 7, timestamp: 30 })]);

  it('parses a range and finds batches by offset', () => {
    const block = Block.parse(data, 5, 8);
    expect([block.count, block.indexOf(5), block.indexOf(6), block.indexOf(7), block.indexOf(8)]).toEqual([2, 0, 0, 1, -1]);
    expect([block.maxTimestampOf(1), block.nextOf(0), block.nextOf(1)]).toEqual([30, 7, 8]);
    expect(readBatchHeader(block.batch(1)).baseOffset).toBe(7);
  });

  it('refuses a range that does not hold what its entry says', () => {
    expect(() => Block.parse(data, 5, 9)).toThrow(/ends at 8/);
    expect(() => Block.parse(data, 4, 8)).toThrow(RobustMQError);
    expect(() => Block.parse(data.subarray(0, data.length - 3), 5, 8)).toThrow(RobustMQError);
  });

  it('evicts the least recently used blocks beyond its byte bound', () => {
    const block = Block.parse(data, 5, 8);
    const cache = new BlockCache(block.byteLength * 2);
    cache.set('a', block);
    cache.set('b', block);
    cache.get('a');
    cache.set('c', block);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).toEqual([true, false, true]);
    expect(cache.stats()).toMatchObject({ bytes: block.byteLength * 2, evictions: 1 });
    const tiny = new BlockCache(10);
    tiny.set('x', block);
    expect(tiny.get('x')).toBeUndefined();
  });

  it('shares one load between concurrent callers', async () => {
    const cache = new BlockCache(1 << 20);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5));
      return Block.parse(data, 5, 8);
    };
    const [x, y] = await Promise.all([cache.load('k', load), cache.load('k', load)]);
    expect(x).toBe(y);
    expect(loads).toBe(1);
    expect(await cache.load('k', load)).toBe(x);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('partition index', () => {
  const entry = (objectKey: string, base: number, next: number, size = 10): IndexEntry => ({ objectKey, base, next, position: 0, size, maxTimestamp: base });

  it('finds the range holding an offset and refuses gaps', () => {
    const index = new PartitionIndex();
    index.push(entry('o1', 0, 5));
    index.push(entry('o2', 5, 6));
    index.push(entry('o3', 6, 20));
    expect([index.find(0), index.find(4), index.find(5), index.find(19), index.find(20)]).toEqual([0, 0, 1, 2, -1]);
    expect(() => index.push(entry('o4', 21, 22))).toThrow(/gap/);
    expect(index.sizeBytes).toBe(30);
  });

  it('replaces compacted spans, also after retention took their head', () => {
    const index = new PartitionIndex();
    for (const [k, b, n] of [['o1', 0, 2], ['o2', 2, 4], ['o3', 4, 6], ['o4', 6, 8]] as const) index.push(entry(k, b, n));
    expect(index.replaceSpan(entry('m', 0, 4, 20), new Set(['o1', 'o2']))).toBe(true);
    expect(index.all().map((e) => [e.objectKey, e.base, e.next])).toEqual([['m', 0, 4], ['o3', 4, 6], ['o4', 6, 8]]);
    expect(index.replaceSpan(entry('x', 4, 7), new Set(['o3', 'o4']))).toBe(false); // does not end on a boundary
    index.dropLeading(1);
    expect(index.replaceSpan(entry('n', 2, 6, 40), new Set(['o3', 'o9']))).toBe(true);
    expect(index.all().map((e) => [e.objectKey, e.base, e.next])).toEqual([['n', 2, 6], ['o4', 6, 8]]);
    expect(index.replaceSpan(entry('gone', 0, 2), new Set(['o1']))).toBe(false);
    expect(index.sizeBytes).toBe(50);
  });
});

describe('retries', () => {
  it('retries throttling, server errors, timeouts and resets, not client errors', () => {
    const sdk = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(isRetriable(sdk('SlowDown', 503))).toBe(true);
    expect(isRetriable(sdk('InternalError', 500))).toBe(true);
    expect(isRetriable(sdk('AbortError'))).toBe(true);
    expect(isRetriable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetriable(sdk('AccessDenied', 403))).toBe(false);
    expect(isRetriable(sdk('NoSuchKey', 404))).toBe(false);
    expect(isRetriable(new RobustMQError('STORAGE_UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetriable(new RobustMQError('INVALID_ARGUMENT', 'x'))).toBe(false);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const samples = Array.from({ length: 200 }, () => backoffDelay(3, { baseMs: 10, capMs: 1000 }));
    expect(Math.max(...samples)).toBeLessThan(80);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(new Set(samples.map((s) => Math.round(s))).size).toBeGreaterThan(10);
    expect(Math.max(...Array.from({ length: 200 }, () => backoffDelay(40, { baseMs: 10, capMs: 1000 })))).toBeLessThan(1000);
  });
});
