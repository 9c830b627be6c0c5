/**
 * What the engine knows about committed objects and partition states, loaded from the MetaStore at start (two
 * prefix listings: 's3-objects' and 's3-partitions') and kept current by the writer, compaction and collection.
 *
 * Startup cost is one listing of the live objects, whose count compaction keeps near
 * (bytes retained / compaction target) + (objects written since the last compaction round), not one per flush ever.
 */
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Entry, MetaStore } from '../../meta/store.js';
import { decodeRanges, isAbortMarker, type DecodedRange, type ObjectEntryValue, type PartitionStateItem } from './format.js';
import { partitionMapKey, type S3Keys } from './keys.js';
import type { PartitionState } from './partition.js';
import type { IndexEntry } from './partition-index.js';

export interface CatalogObject {
  readonly key: string;
  readonly metaKey: string;
  readonly version: number;
  readonly size: number;
  readonly createdAt: number;
  readonly ranges: DecodedRange[];
}

export class Catalog {
  readonly objects = new Map<string, CatalogObject>();
  readonly states = new Map<string, PartitionState>();
  /** Dropped partitions: the incarnation their next creation must exceed, and the tombstone's version. */
  readonly tombstones = new Map<string, { incarnation: number; version: number }>();
  /** Live ranges per partition incarnation not yet opened, from the last load. */
  private readonly streams = new Map<string, IndexEntry[]>();
  loadedAt = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly keys: S3Keys,
    private readonly log?: Logger,
  ) {}

  /**
   * Lists objects, then partition states (in that order: an object can only name an incarnation created before
   * it, so every live range finds its state). Adds what is new; states of partitions in `open` are kept as they are.
   * With `sinceMs`, only objects named after that time (less a clock-skew margin) are listed: a few prefix
   * queries over the time-ordered keys instead of the whole index.
   */
  async load(open: ReadonlySet<string>, sinceMs?: number): Promise<void> {
    const started = Date.now();
    const prefixes = sinceMs === undefined ? [this.keys.metaObjectsPrefix] : recentPrefixes(this.keys.metaObjectsPrefix, sinceMs - SKEW_MS, started + SKEW_MS);
    const objects: Entry<ObjectEntryValue>[] = [];
    for (const prefix of prefixes) objects.push(...(await this.meta.list<ObjectEntryValue>('s3-objects', prefix)));
    await this.refreshStates(open);
    for (const entry of objects) {
      const key = this.keys.objectKeyOf(entry.key);
      if (this.objects.has(key) || isAbortMarker(entry.value)) continue;
      try {
        const ranges = decodeRanges(entry.value);
        this.add({ key, metaKey: entry.key, version: entry.version, size: entry.value.size, createdAt: entry.value.createdAt, ranges });
      } catch (err) {
        this.log?.error({ err, metaKey: entry.key }, 'skipping unreadable S3 object entry');
      }
    }
    this.streams.clear();
    for (const obj of this.objects.values()) {
      for (const r of obj.ranges) {
        const state = this.states.get(partitionMapKey(r.topic, r.partition));
        if (!state || open.has(partitionMapKey(r.topic, r.partition)) || this.isDead(r)) continue;
        const id = streamKey(r.topic, r.partition, r.incarnation);
        let list = this.streams.get(id);
        if (!list) this.streams.set(id, (list = []));
        list.push({ objectKey: obj.key, base: r.baseOffset, next: r.lastOffset + 1, position: r.position, size: r.size, maxTimestamp: r.maxTimestamp });
      }
    }
    this.loadedAt = started;
  }

  /**
   * Lists partition states again (one small listing), so the collector judges ranges of partitions other brokers
   * lead by their current log start and incarnation. States of partitions in `open` are this engine's own.
   */
  async refreshStates(open: ReadonlySet<string>): Promise<void> {
    const states = await this.meta.list<PartitionStateItem>('s3-partitions', this.keys.partitionsPrefix);
    const listed = new Set<string>();
    for (const { value, version } of states) {
      const mapKey = partitionMapKey(value.topic, value.partition);
      if (open.has(mapKey)) continue;
      if (value.dropped) {
        this.tombstones.set(mapKey, { incarnation: value.incarnation, version });
        continue;
      }
      listed.add(mapKey);
      this.states.set(mapKey, { topic: value.topic, partition: value.partition, incarnation: value.incarnation, logStartOffset: value.logStartOffset, version });
    }
    for (const mapKey of [...this.states.keys()]) if (!open.has(mapKey) && !listed.has(mapKey)) this.states.delete(mapKey);
  }

  add(object: CatalogObject): void {
    this.objects.set(object.key, object);
  }

  remove(key: string): void {
    this.objects.delete(key);
  }

  /** True when no live partition still needs this range. */
  isDead(r: DecodedRange): boolean {
    const state = this.states.get(partitionMapKey(r.topic, r.partition));
    return !state || state.incarnation !== r.incarnation || r.lastOffset < state.logStartOffset;
  }

  /** The committed ranges of a partition from its log start on, in offset order, checked to be dense. */
  entriesOf(state: PartitionState): IndexEntry[] {
    const id = streamKey(state.topic, state.partition, state.incarnation);
    const found = (this.streams.get(id) ?? []).filter((e) => e.next > state.logStartOffset);
    this.streams.delete(id);
    return dense(state, found);
  }

  /** Like `entriesOf`, from every object known now (a full scan: for repairs, not for startup). */
  scanEntries(state: PartitionState): IndexEntry[] {
    const found: IndexEntry[] = [];
    for (const obj of this.objects.values()) {
      for (const r of obj.ranges) {
        if (r.topic !== state.topic || r.partition !== state.partition || r.incarnation !== state.incarnation) continue;
        if (r.lastOffset < state.logStartOffset) continue;
        found.push({ objectKey: obj.key, base: r.baseOffset, next: r.lastOffset + 1, position: r.position, size: r.size, maxTimestamp: r.maxTimestamp });
      }
    }
    return dense(state, found);
  }
}

/** Sorts ranges and checks they are dense; a range inside another (a compaction raced a load) is skipped. */
function dense(state: PartitionState, found: IndexEntry[]): IndexEntry[] {
  found.sort((a, b) => a.base - b.base || b.next - a.next);
  const out: IndexEntry[] = [];
  for (const e of found) {
    const end = out.length > 0 ? out[out.length - 1].next : undefined;
    if (end !== undefined && e.next <= end) continue;
    if (end !== undefined && e.base !== end) {
      throw new RobustMQError('CORRUPT_RECORD', `S3 index of ${state.topic}-${state.partition} has a gap at ${end}..${e.base}`);
    }
    out.push(e);
  }
  return out;
}

/** Brokers' clocks may disagree this much about when an object was named. */
const SKEW_MS = 60_000;

/**
 * Key prefixes covering every object named in [from, to]: the 13-digit times cut to a power-of-ten bucket wide
 * enough that at most about ten prefixes are needed.
 */
export function recentPrefixes(base: string, from: number, to: number): string[] {
  let bucket = 1;
  while ((to - from) / bucket > 10) bucket *= 10;
  const digits = 13 - Math.round(Math.log10(bucket));
  const out: string[] = [];
  for (let t = Math.floor(Math.max(0, from) / bucket) * bucket; t <= to; t += bucket) out.push(base + String(t).padStart(13, '0').slice(0, digits));
  return out;
}

function streamKey(topic: string, partition: number, incarnation: number): string {
  return `${topic}\u0000${partition}\u0000${incarnation}`;
}
