import type { S3Client } from '@aws-sdk/client-s3';
import { isRobustMQError, RobustMQError } from '../../errors.js';
import type { AppendResult, LogConfig, PartitionId, PartitionLog, StorageEngine } from '../engine.js';
import type { BatchHeader } from '../record-batch.js';
import { Block } from './block.js';
import { BlockCache, type CacheStats } from './cache.js';
import { Catalog } from './catalog.js';
import { Collector, type CollectorStats } from './collector.js';
import { Fence } from './fence.js';
import type { DecodedRange, PartitionStateItem } from './format.js';
import { partitionMapKey, S3Keys } from './keys.js';
import { Maintenance, type MaintenanceStats } from './maintenance.js';
import { ObjectStore, type ObjectStoreStats } from './object-store.js';
import { buildClient, resolveOptions, type ResolvedS3Options, type S3EngineOptions } from './options.js';
import type { IndexEntry } from './partition-index.js';
import { S3PartitionLog, type PartitionHost, type PartitionState } from './partition.js';
import { Writer, type WriterStats } from './writer.js';

export type { S3EngineOptions } from './options.js';

export interface S3EngineStats {
  s3: ObjectStoreStats;
  writer: WriterStats;
  cache: CacheStats;
  collector: CollectorStats;
  maintenance: MaintenanceStats;
  objects: number;
  epoch: number;
}

/**
 * Partition logs kept in S3, indexed in the MetaStore: brokers hold no state a restart could lose, so a broker on
 * a new machine with an empty data directory and the same bucket and meta serves everything.
 *
 * Durability: an append resolves only after its object is in S3 (a PUT is durable when it returns) and the
 * object's index entry is committed to the MetaStore; what was acknowledged survives the loss of the broker. The
 * `flush` policy of log configs is ignored: batching is governed by `flushMs`/`flushBytes` for all partitions at
 * once (writer.ts), because S3 cost is per request — one PUT and one MetaStore transaction per flush, whatever the
 * number of partitions and producers.
 *
 * Reads: the index locates each offset's object and byte range; ranges are fetched with byte-range GETs into an
 * LRU cache bounded by `cacheBytes`, ahead of sequential consumers, and just-written ranges are cached as they are
 * committed, so tail consumers read from memory. Retention and DeleteRecords move a persisted log start; objects go
 * whole once nothing in them is live (collector.ts); compaction merges small objects (compaction.ts).
 *
 * Fencing: the engine takes its broker's lease at start, which fences any earlier process of the same broker, and
 * every write checks it (fence.ts). Once fenced, appends fail with NOT_LEADER; reads still serve committed data.
 */
export class S3StorageEngine implements StorageEngine {
  readonly kind = 's3' as const;
  private readonly o: ResolvedS3Options;
  private readonly client: S3Client;
  private readonly aborter = new AbortController();
  private readonly keys: S3Keys;
  private readonly store: ObjectStore;
  private readonly cache: BlockCache;
  private readonly fence: Fence;
  private readonly catalog: Catalog;
  private readonly collector: Collector;
  private readonly writer: Writer;
  private readonly maintenance: Maintenance;
  private readonly logs = new Map<string, S3PartitionLog>();
  private readonly opening = new Map<string, Promise<S3PartitionLog>>();
  private readonly stateChains = new Map<S3PartitionLog, Promise<void>>();
  private readonly host: PartitionHost;
  private started: Promise<void> | undefined;
  private reloading: { startedAt: number; done: Promise<void> } | undefined;
  private closed = false;

  constructor(options: S3EngineOptions) {
    this.o = resolveOptions(options);
    const { o } = this;
    this.client = o.client ?? buildClient(o);
    const signal = this.aborter.signal;
    this.keys = new S3Keys(o.bucket, o.prefix);
    this.store = new ObjectStore({ client: this.client, bucket: o.bucket, requestTimeoutMs: o.requestTimeoutMs, signal, log: o.log });
    this.cache = new BlockCache(o.cacheBytes);
    this.fence = new Fence(o.meta, this.keys.leaseKey(o.brokerId), o.brokerId);
    this.catalog = new Catalog(o.meta, this.keys, o.log);
    const requestDeadlineMs = Math.max(o.readTimeoutMs, 30_000);
    this.collector = new Collector({ ...o, fence: this.fence, store: this.store, keys: this.keys, catalog: this.catalog, requestDeadlineMs });
    this.writer = new Writer({
      ...o,
      keys: this.keys,
      store: this.store,
      fence: this.fence,
      cache: this.cache,
      signal,
      onCommitted: (key, metaKey, built, item) =>
        this.catalog.add({ key, metaKey, version: 1, size: item.size, createdAt: item.createdAt, ranges: built.ranges.map(({ part: _p, data: _d, ...r }) => r) }),
    });
    this.maintenance = new Maintenance(
      { ...o, fence: this.fence, store: this.store, keys: this.keys, catalog: this.catalog, collector: this.collector, cache: this.cache, requestDeadlineMs, signal, openLog: (r) => this.openLogOf(r), openKeys: () => new Set(this.logs.keys()) },
      {
        intervalMs: o.maintenanceIntervalMs,
        orphanSweepMs: o.orphanSweepMs,
        compactRounds: 4,
        compaction: { smallBytes: o.compactSmallBytes, targetBytes: o.compactTargetBytes, maxObjects: o.compactMaxObjects, maxRangeBytes: o.flushBytes },
        log: o.log,
      },
    );
    this.host = {
      readAheadBytes: o.readAheadBytes,
      enqueue: (part, batches, headers) => this.enqueue(part, batches, headers),
      moveLogStart: (part, offset) => this.moveLogStart(part, offset),
      block: (entry) => this.block(entry),
      prefetch: (entries) => this.prefetch(entries),
    };
  }

  async openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog> {
    this.assertOpen();
    await this.start();
    const mapKey = partitionMapKey(id.topic, id.partition);
    const existing = this.logs.get(mapKey);
    if (existing) return existing;
    let opening = this.opening.get(mapKey);
    if (!opening) {
      opening = this.open(id, config, mapKey).finally(() => this.opening.delete(mapKey));
      this.opening.set(mapKey, opening);
    }
    return opening;
  }

  async dropPartition(id: PartitionId): Promise<void> {
    this.assertOpen();
    await this.start();
    const mapKey = partitionMapKey(id.topic, id.partition);
    await this.opening.get(mapKey)?.catch(() => undefined);
    const state = this.catalog.states.get(mapKey);
    if (state) {
      const tombstone: PartitionStateItem = { topic: id.topic, partition: id.partition, incarnation: state.incarnation, logStartOffset: 0, dropped: true };
      const key = this.keys.partitionKey(id.topic, id.partition);
      await this.metaWrite(() => this.fence.transact([{ op: 'put', ns: 's3-partitions', key, value: tombstone, expectedVersion: state.version }]));
      this.catalog.states.delete(mapKey);
      this.catalog.tombstones.set(mapKey, { incarnation: state.incarnation, version: state.version + 1 });
    }
    const log = this.logs.get(mapKey);
    if (log) {
      this.logs.delete(mapKey);
      this.writer.dropPartition(log);
      log.release('was dropped');
    }
    if (state) void this.maintenance.run({ compact: false });
  }

  /**
   * Stops serving a partition without dropping its data (a cluster moved its leadership to another broker): later
   * calls on its log fail with CLOSED, appends waiting for an object with NOT_LEADER, and this resolves once no
   * flush in progress carries its data — only then may the next leader start appending. Opening it again later
   * loads it afresh from the index (with `shared`, including what other brokers committed meanwhile).
   */
  async releasePartition(id: PartitionId): Promise<void> {
    const mapKey = partitionMapKey(id.topic, id.partition);
    await this.opening.get(mapKey)?.catch(() => undefined);
    const log = this.logs.get(mapKey);
    if (!log) return;
    this.logs.delete(mapKey);
    log.release('is led by another broker now');
    await this.writer.settlePartition(log, new RobustMQError('NOT_LEADER', `partition ${log.label} moved to another broker`));
    await this.stateChains.get(log);
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await this.writer.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.started?.catch(() => undefined);
    await this.writer.close();
    await this.maintenance.stop();
    this.aborter.abort();
    for (const log of this.logs.values()) log.release('belongs to a closed storage engine');
    this.logs.clear();
    this.cache.clear();
    if (!this.o.client) this.client.destroy();
  }

  /** Runs garbage collection, compaction and (with `sweep`) the orphan sweep now; for tests and operators. */
  async runMaintenance(options: { sweep?: boolean; compact?: boolean } = {}): Promise<void> {
    this.assertOpen();
    await this.start();
    await this.maintenance.run(options);
  }

  stats(): S3EngineStats {
    return {
      s3: { ...this.store.stats },
      writer: { ...this.writer.stats },
      cache: this.cache.stats(),
      collector: { ...this.collector.stats },
      maintenance: { ...this.maintenance.stats },
      objects: this.catalog.objects.size,
      epoch: this.fence.epoch,
    };
  }

  /** Takes the lease (fencing older writers), then loads the index. Retried by the next call if it fails. */
  private start(): Promise<void> {
    this.started ??= (async () => {
      const region = await this.client.config.region().catch(() => undefined);
      if (!region) throw new RobustMQError('INVALID_ARGUMENT', 'the s3 storage engine needs a region (--s3-region or AWS_REGION)');
      await this.metaWrite(() => this.fence.acquire(Date.now() + this.o.readTimeoutMs, this.aborter.signal));
      await this.metaWrite(() => this.catalog.load(new Set()));
      this.assertOpen();
      this.maintenance.start();
      this.o.log?.info({ bucket: this.o.bucket, prefix: this.o.prefix, epoch: this.fence.epoch, objects: this.catalog.objects.size }, 's3 storage engine started');
    })().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  private async open(id: PartitionId, config: LogConfig, mapKey: string): Promise<S3PartitionLog> {
    // Shared prefix: the partition may come from another broker (fenced by now); load what it committed lately.
    if (this.o.shared && this.catalog.states.has(mapKey)) await this.reload(this.catalog.loadedAt);
    let state = this.catalog.states.get(mapKey);
    let entries: IndexEntry[] = [];
    if (state) {
      entries = this.catalog.entriesOf(state);
    } else {
      state = await this.create(id, mapKey).catch(async (err: unknown) => {
        // Created (or dropped) by another broker since the catalog was loaded: look again, then decide.
        if (!isRobustMQError(err, 'CONFLICT')) throw err;
        await this.reload();
        const found = this.catalog.states.get(mapKey);
        if (found) entries = this.catalog.entriesOf(found);
        return found ?? this.create(id, mapKey);
      });
    }
    if (this.closed) throw new RobustMQError('CLOSED', 'the s3 storage engine is closed');
    const log = new S3PartitionLog({ topic: id.topic, partition: id.partition }, state, entries, config, this.host);
    this.logs.set(mapKey, log);
    return log;
  }

  /** Creates a partition's state: incarnation 1, or one more than the dropped partition of that name had. */
  private async create(id: PartitionId, mapKey: string): Promise<PartitionState> {
    const tombstone = this.catalog.tombstones.get(mapKey);
    const item: PartitionStateItem = { topic: id.topic, partition: id.partition, incarnation: (tombstone?.incarnation ?? 0) + 1, logStartOffset: 0 };
    const key = this.keys.partitionKey(id.topic, id.partition);
    const expectedVersion = tombstone?.version ?? 0;
    await this.metaWrite(() => this.fence.transact([{ op: 'put', ns: 's3-partitions', key, value: item, expectedVersion }]));
    const state: PartitionState = { ...item, version: expectedVersion + 1 };
    this.catalog.tombstones.delete(mapKey);
    this.catalog.states.set(mapKey, state);
    return state;
  }

  /**
   * Loads the catalog again (only objects named since `sinceMs`, when given). A caller joins a load under way
   * only if it started after the call: a load begun earlier may have missed commits the caller must see.
   */
  private reload(sinceMs?: number): Promise<void> {
    const calledAt = Date.now();
    if (this.reloading && this.reloading.startedAt >= calledAt) return this.reloading.done;
    const done = this.metaWrite(() => this.catalog.load(new Set(this.logs.keys()), sinceMs)).finally(() => {
      if (this.reloading?.done === done) this.reloading = undefined;
    });
    this.reloading = { startedAt: calledAt, done };
    return done;
  }

  private enqueue(part: S3PartitionLog, batches: Buffer, headers: BatchHeader[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new RobustMQError('CLOSED', 'the s3 storage engine is closed'));
    return this.writer.enqueue(part, batches, headers);
  }

  /** Persists a new log start (fenced, compare-and-set on the partition's entry), one write at a time per partition. */
  private moveLogStart(part: S3PartitionLog, offset: number): Promise<void> {
    const prev = this.stateChains.get(part) ?? Promise.resolve();
    const next = prev.then(async () => {
      const state = part.state;
      if (offset <= state.logStartOffset || part.closed) return;
      const value: PartitionStateItem = { topic: state.topic, partition: state.partition, incarnation: state.incarnation, logStartOffset: offset };
      const key = this.keys.partitionKey(state.topic, state.partition);
      await this.metaWrite(() => this.fence.transact([{ op: 'put', ns: 's3-partitions', key, value, expectedVersion: state.version }]));
      state.version++;
      part.applyLogStart(offset);
    });
    const settled = next.catch(() => undefined);
    this.stateChains.set(part, settled);
    void settled.then(() => {
      if (this.stateChains.get(part) === settled) this.stateChains.delete(part);
    });
    return next;
  }

  private block(entry: IndexEntry): Promise<Block> {
    const deadline = Date.now() + this.o.readTimeoutMs;
    const load = async (): Promise<Block> => {
      const data = await this.store.getRange(entry.objectKey, entry.position, entry.size, deadline);
      return Block.parse(data, entry.base, entry.next);
    };
    return this.cache.load(BlockCache.keyOf(entry.objectKey, entry.position), load, deadline);
  }

  private prefetch(entries: IndexEntry[]): void {
    for (const e of entries.slice(0, 8)) {
      if (this.cache.has(BlockCache.keyOf(e.objectKey, e.position))) continue;
      this.block(e).catch((err: unknown) => this.o.log?.debug({ err, objectKey: e.objectKey }, 'S3 read-ahead failed'));
    }
  }

  private openLogOf(r: DecodedRange): S3PartitionLog | undefined {
    const log = this.logs.get(partitionMapKey(r.topic, r.partition));
    return log && !log.closed && log.state.incarnation === r.incarnation ? log : undefined;
  }

  /** MetaStore failures reach callers as RobustMQErrors; a lost lease as NOT_LEADER. */
  private async metaWrite<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isRobustMQError(err)) throw err;
      throw new RobustMQError('STORAGE_UNAVAILABLE', `S3 engine metadata call failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RobustMQError('CLOSED', 'the s3 storage engine is closed');
  }
}
