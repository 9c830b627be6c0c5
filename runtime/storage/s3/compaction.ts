/**
 * Compaction: small objects (a quiet broker writes one every flush) are merged into larger ones, so reads need fewer
 * GETs, startup lists fewer entries and retention deletes fewer objects. A round picks the oldest small objects,
 * reads their live ranges (one GET each), writes them as one object in which adjacent ranges of a partition are
 * joined (up to `maxRangeBytes`, the unit of the read cache), and commits the swap in one fenced transaction: the
 * new entry appears and the old ones vanish together. The old bytes are deleted after the collector's delay.
 *
 * Only objects whose live ranges all belong to partitions open in this engine are taken, because their indexes
 * are updated in place after the commit. Cost per round: N GETs, one PUT, one MetaStore transaction of N + 2 items.
 */
import { isRobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import type { BlockCache } from './cache.js';
import type { Catalog, CatalogObject } from './catalog.js';
import type { Collector } from './collector.js';
import type { Fence } from './fence.js';
import { encodeItem, type DecodedRange } from './format.js';
import type { S3Keys } from './keys.js';
import type { ObjectStore } from './object-store.js';
import type { S3PartitionLog } from './partition.js';
import { retrying } from './retry.js';

export interface CompactionOptions {
  /** Objects smaller than this are merged. */
  readonly smallBytes: number;
  /** A merged object grows to at most this. */
  readonly targetBytes: number;
  /** Objects merged per round (each costs one item in the commit transaction). */
  readonly maxObjects: number;
  readonly maxRangeBytes: number;
}

export interface CompactionContext {
  readonly meta: MetaStore;
  readonly fence: Fence;
  readonly store: ObjectStore;
  readonly keys: S3Keys;
  readonly catalog: Catalog;
  readonly collector: Collector;
  readonly cache: BlockCache;
  readonly requestDeadlineMs: number;
  readonly signal: AbortSignal;
  /** The open log a live range belongs to, if this engine has it open. */
  openLog(r: DecodedRange): S3PartitionLog | undefined;
  readonly log?: Logger;
}

interface LiveRange extends DecodedRange {
  data: Buffer;
  source: string;
}

/** Runs one round; resolves the number of objects merged (0 when there was nothing worth merging). */
export async function compactOnce(ctx: CompactionContext, o: CompactionOptions): Promise<number> {
  const picked = pick(ctx, o);
  if (picked.length < 2) return 0;
  const ranges = await readLive(ctx, picked);
  const merged = merge(ranges, o.maxRangeBytes);
  let position = 0;
  for (const r of merged) {
    r.position = position;
    position += r.size;
  }
  const body = Buffer.concat(merged.map((r) => r.data));
  const objectKey = ctx.keys.newObjectKey();
  const metaKey = ctx.keys.metaObjectKey(objectKey);
  const deadline = Date.now() + ctx.requestDeadlineMs;
  await retrying(() => ctx.store.putOnce(objectKey, body), { deadline, signal: ctx.signal });
  const item = encodeItem(merged, { createdAt: Date.now(), writer: ctx.fence.brokerId, epoch: ctx.fence.epoch });
  try {
    await ctx.fence.transact([
      { op: 'put', ns: 's3-objects', key: metaKey, value: item, expectedVersion: 0 },
      ...picked.map((obj) => ({ op: 'delete' as const, ns: 's3-objects' as const, key: obj.metaKey, expectedVersion: obj.version })),
    ]);
  } catch (err) {
    // Another broker compacted or collected one of them: forget those; the object just written is an orphan.
    if (!isRobustMQError(err, 'CONFLICT')) throw err;
    for (const obj of picked) if ((await ctx.meta.get('s3-objects', obj.metaKey))?.version !== obj.version) ctx.catalog.remove(obj.key);
    return 0;
  }
  apply(ctx, picked, merged, objectKey, metaKey, body.length, item.createdAt);
  ctx.log?.debug({ merged: picked.length, objectKey, bytes: body.length }, 'compacted S3 objects');
  return picked.length;
}

function pick(ctx: CompactionContext, o: CompactionOptions): CatalogObject[] {
  const candidates = [...ctx.catalog.objects.values()]
    .filter((obj) => obj.size < o.smallBytes && !ctx.collector.isPendingDelete(obj.key))
    .filter((obj) => {
      const live = obj.ranges.filter((r) => !ctx.catalog.isDead(r));
      return live.length > 0 && live.every((r) => ctx.openLog(r) !== undefined);
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const picked: CatalogObject[] = [];
  let bytes = 0;
  for (const obj of candidates) {
    if (picked.length >= o.maxObjects || (picked.length > 0 && bytes + obj.size > o.targetBytes)) break;
    picked.push(obj);
    bytes += obj.size;
  }
  return picked;
}

/** The live ranges of the picked objects with their bytes: one GET per object, spanning its live ranges. */
async function readLive(ctx: CompactionContext, picked: CatalogObject[]): Promise<LiveRange[]> {
  const out: LiveRange[] = [];
  for (const obj of picked) {
    const live = obj.ranges.filter((r) => !ctx.catalog.isDead(r));
    const from = Math.min(...live.map((r) => r.position));
    const to = Math.max(...live.map((r) => r.position + r.size));
    const bytes = await ctx.store.getRange(obj.key, from, to - from, Date.now() + ctx.requestDeadlineMs);
    for (const r of live) out.push({ ...r, data: bytes.subarray(r.position - from, r.position - from + r.size), source: obj.key });
  }
  return out;
}

interface MergedRange extends DecodedRange {
  data: Buffer;
  sources: Set<string>;
}

/** Groups ranges per partition in offset order and joins adjacent ones up to `maxRangeBytes`. */
function merge(ranges: LiveRange[], maxRangeBytes: number): MergedRange[] {
  const byPart = new Map<string, LiveRange[]>();
  for (const r of ranges) {
    const id = `${r.topic}\u0000${r.partition}\u0000${r.incarnation}`;
    let list = byPart.get(id);
    if (!list) byPart.set(id, (list = []));
    list.push(r);
  }
  const out: MergedRange[] = [];
  for (const list of byPart.values()) {
    list.sort((a, b) => a.baseOffset - b.baseOffset);
    let run: LiveRange[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      const data = Buffer.concat(run.map((r) => r.data));
      out.push({
        ...run[0],
        lastOffset: run[run.length - 1].lastOffset,
        size: data.length,
        maxTimestamp: Math.max(...run.map((r) => r.maxTimestamp)),
        leaderEpoch: Math.max(...run.map((r) => r.leaderEpoch)),
        data,
        sources: new Set(run.map((r) => r.source)),
      });
      run = [];
    };
    for (const r of list) {
      const last = run[run.length - 1];
      const size = run.reduce((n, x) => n + x.size, 0);
      if (last && (last.lastOffset + 1 !== r.baseOffset || size + r.size > maxRangeBytes)) flush();
      run.push(r);
    }
    flush();
  }
  return out;
}

function apply(ctx: CompactionContext, picked: CatalogObject[], merged: MergedRange[], key: string, metaKey: string, size: number, createdAt: number): void {
  for (const obj of picked) {
    ctx.catalog.remove(obj.key);
    ctx.collector.scheduleDelete(obj.key);
  }
  ctx.catalog.add({ key, metaKey, version: 1, size, createdAt, ranges: merged.map(({ data: _d, sources: _s, ...r }) => r) });
  for (const r of merged) {
    const log = ctx.openLog(r);
    if (!log) continue;
    const entry = { objectKey: key, base: r.baseOffset, next: r.lastOffset + 1, position: r.position, size: r.size, maxTimestamp: r.maxTimestamp };
    if (log.index.replaceSpan(entry, r.sources) || entry.next <= log.logStartOffset()) continue;
    // Not expected to happen; the catalog (already updated) is the truth, so the index is rebuilt from it.
    ctx.log?.error({ partition: log.label, base: entry.base }, 'compacted range not indexed as expected; rebuilding the index');
    log.resetIndex(ctx.catalog.scanEntries(log.state));
  }
}
