/**
 * Topics and their partition logs: the protocol-neutral core that the admin API, the Kafka front-end and MQTT
 * bindings call. Topic definitions live in the MetaStore; partition data lives in the engine each topic names.
 */
import { EventEmitter } from 'node:events';
import { RobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { TopicRecord } from '../meta/records.js';
import type { Metrics } from '../metrics.js';
import type { AppendResult, LogConfig, PartitionLog, StorageEngine, StorageKind } from '../storage/engine.js';
import { parseFlushPolicy } from '../storage/flush.js';
import { validateBatches } from '../storage/record-batch.js';
import { checkPartitionGrowth, engineUnavailable, topicRecordOf } from './topic-spec.js';

export { MAX_PARTITIONS } from './topic-spec.js';

export interface TopicDefaults {
  storage: StorageKind;
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  /** Largest batch accepted by append (Kafka message.max.bytes). */
  maxBatchBytes: number;
}

export interface CreateTopicSpec {
  name: string;
  partitions?: number;
  storage?: StorageKind;
  retentionMs?: number;
  retentionBytes?: number;
  flush?: string;
  mqttBindings?: string[];
  configs?: Record<string, string>;
}

export type TopicUpdate = Partial<
  Pick<TopicRecord, 'retentionMs' | 'retentionBytes' | 'flush' | 'mqttBindings' | 'configs'>
>;

export interface PartitionInfo {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  sizeBytes: number;
}

export interface TopicDescription extends TopicRecord {
  partitionInfo: PartitionInfo[];
}

export interface AppendEvent {
  topic: string;
  partition: number;
  result: AppendResult;
  /** The stored batches (base offsets already assigned). */
  batches: Buffer;
  /** Free-form tag of who appended (e.g. `mqtt`), so bridges can skip their own records. */
  origin?: string;
}

/** An append the engine is about to see ('appending') or that failed ('appendFailed'). */
export interface AppendStart {
  topic: string;
  partition: number;
  batches: Buffer;
  origin?: string;
}

export interface TopicManagerEvents {
  created: [TopicRecord];
  deleted: [string];
  updated: [TopicRecord];
  /** Synchronously before the engine gets the batches: a listener may still append first (engines keep call order). */
  appending: [AppendStart];
  appended: [AppendEvent];
  appendFailed: [AppendStart];
  /** Cluster: this broker started (`leader`) or stopped leading a partition; state cached for it is stale. */
  leadership: [{ topic: string; partition: number; leader: boolean }];
}

interface OpenTopic {
  record: TopicRecord;
  logs: PartitionLog[];
}

export class TopicManager extends EventEmitter<TopicManagerEvents> {
  private readonly topics = new Map<string, OpenTopic>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private retentionTimer?: NodeJS.Timeout;

  constructor(
    private readonly meta: MetaStore,
    private readonly engines: Partial<Record<StorageKind, StorageEngine>>,
    readonly defaults: TopicDefaults,
    private readonly metrics: Metrics | undefined,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Opens every topic recorded in the MetaStore. */
  async start(): Promise<void> {
    for (const entry of await this.meta.list<TopicRecord>('topics')) {
      try {
        await this.open(entry.value);
      } catch (err) {
        this.log.error({ err, topic: entry.key }, 'could not open topic');
      }
    }
    this.log.info({ topics: this.topics.size }, 'topics loaded');
  }

  /** Runs retention every `intervalMs` (Kafka's log.retention.check.interval.ms). */
  startRetention(intervalMs: number): void {
    this.retentionTimer = setInterval(() => {
      this.enforceRetention(Date.now()).catch((err) => this.log.error({ err }, 'retention pass failed'));
    }, intervalMs);
    this.retentionTimer.unref();
  }

  async enforceRetention(nowMs: number): Promise<void> {
    for (const t of this.topics.values()) {
      for (const log of t.logs) await log.enforceRetention(nowMs);
    }
  }

  list(): TopicRecord[] {
    return [...this.topics.values()].map((t) => t.record).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): TopicRecord | undefined {
    return this.topics.get(name)?.record;
  }

  describe(name: string): TopicDescription {
    const t = this.require(name);
    return {
      ...t.record,
      partitionInfo: t.logs.map((log) => ({
        partition: log.id.partition,
        logStartOffset: log.logStartOffset(),
        highWatermark: log.highWatermark(),
        sizeBytes: log.sizeBytes(),
      })),
    };
  }

  /** The log of one partition; NOT_FOUND when the topic or partition does not exist. */
  partition(topic: string, partition: number): PartitionLog {
    const t = this.topics.get(topic);
    const log = t?.logs[partition];
    if (!log) throw new RobustMQError('NOT_FOUND', `unknown topic or partition ${topic}-${partition}`);
    return log;
  }

  async create(spec: CreateTopicSpec): Promise<TopicRecord> {
    const record = this.validateSpec(spec);
    if (this.topics.has(record.name)) throw new RobustMQError('ALREADY_EXISTS', `topic "${record.name}" already exists`);
    try {
      await this.meta.put('topics', record.name, record, { expectedVersion: 0 });
    } catch (err) {
      if (err instanceof RobustMQError && err.code === 'CONFLICT') {
        // Created through another broker sharing the MetaStore: know it here too, then report it as existing.
        const existing = await this.meta.get<TopicRecord>('topics', record.name).catch(() => undefined);
        if (existing) await this.adopt(existing.value).catch(() => undefined);
        throw new RobustMQError('ALREADY_EXISTS', `topic "${record.name}" already exists`);
      }
      throw err;
    }
    await this.open(record);
    this.log.info({ topic: record.name, partitions: record.partitions, storage: record.storage }, 'topic created');
    this.emit('created', record);
    return record;
  }

  async delete(name: string): Promise<void> {
    const t = this.require(name);
    this.topics.delete(name);
    await this.meta.delete('topics', name);
    const engine = this.engineFor(t.record.storage);
    for (let p = 0; p < t.logs.length; p++) await engine.dropPartition({ topic: name, partition: p });
    this.wakeAll(name);
    this.log.info({ topic: name }, 'topic deleted');
    this.emit('deleted', name);
  }

  /** Grows a topic to `total` partitions (Kafka CreatePartitions: partitions can only be added). */
  async addPartitions(name: string, total: number): Promise<TopicRecord> {
    const t = this.require(name);
    checkPartitionGrowth(t.record.partitions, total);
    return this.update(name, { partitions: total } as TopicUpdate);
  }

  async update(name: string, patch: TopicUpdate & { partitions?: number }): Promise<TopicRecord> {
    const t = this.require(name);
    const next: TopicRecord = { ...t.record, ...patch };
    this.validateSpec({ ...next }, true);
    await this.meta.put('topics', name, next);
    const engine = this.engineFor(next.storage);
    const config = logConfigOf(next);
    for (const log of t.logs) log.updateConfig(config);
    for (let p = t.logs.length; p < next.partitions; p++) {
      t.logs.push(await engine.openPartition({ topic: name, partition: p }, config));
    }
    t.record = next;
    this.emit('updated', next);
    return next;
  }

  /**
   * Takes in a topic another broker created or changed in the shared MetaStore (cluster): opens it, or applies the
   * new definition (more partitions, retention, bindings) without writing it back. Emits 'created' or 'updated'.
   */
  async adopt(record: TopicRecord): Promise<void> {
    const t = this.topics.get(record.name);
    if (!t) {
      await this.open(record);
      this.emit('created', record);
      return;
    }
    if (JSON.stringify(t.record) === JSON.stringify(record)) return;
    const engine = this.engineFor(record.storage);
    const config = logConfigOf(record);
    for (const log of t.logs) log.updateConfig(config);
    for (let p = t.logs.length; p < record.partitions; p++) {
      t.logs.push(await engine.openPartition({ topic: record.name, partition: p }, config));
    }
    t.record = record;
    this.emit('updated', record);
  }

  /** Stops knowing a topic another broker deleted (its data was dropped there). Emits 'deleted'. */
  forget(name: string): void {
    if (!this.topics.delete(name)) return;
    this.wakeAll(name);
    this.emit('deleted', name);
  }

  /** Cluster: leadership of a partition came or went; wakes its long-polls so they answer from the new state. */
  leadershipChanged(topic: string, partition: number, leader: boolean): void {
    this.wake(topic, partition);
    this.emit('leadership', { topic, partition, leader });
  }

  /**
   * Validates and appends concatenated RecordBatch v2 buffers to one partition, then wakes readers waiting on it.
   * Resolves when the engine's durability policy is met. `encodedHere`: the batches were just encoded by this
   * process (the MQTT bridge), within the size limit, so checking their CRCs again would only cost time.
   */
  async append(topic: string, partition: number, batches: Buffer, origin?: string, encodedHere = false): Promise<AppendResult> {
    const log = this.partition(topic, partition);
    if (!encodedHere) validateBatches(batches, this.defaults.maxBatchBytes);
    const start: AppendStart = { topic, partition, batches, origin };
    this.emit('appending', start);
    const started = process.hrtime.bigint();
    let result: AppendResult;
    try {
      result = await log.append(batches);
    } catch (err) {
      this.emit('appendFailed', start);
      throw err;
    }
    const storage = this.topics.get(topic)?.record.storage ?? 'memory';
    this.metrics?.appendLatency.observe({ engine: storage }, Number(process.hrtime.bigint() - started) / 1e9);
    this.wake(topic, partition);
    this.emit('appended', { topic, partition, result, batches, origin });
    return result;
  }

  /**
   * Resolves when the partition's high watermark passes `offset`, the topic is deleted, the timeout passes or
   * `signal` aborts — whichever comes first (Kafka Fetch long-poll).
   */
  waitForData(topic: string, partition: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const t = this.topics.get(topic);
    const log = t?.logs[partition];
    if (!log || log.highWatermark() > offset || timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    const key = `${topic}\u0000${partition}`;
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set!.delete(done);
        if (set!.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const name of this.topics.keys()) this.wakeAll(name);
  }

  private wake(topic: string, partition: number): void {
    const set = this.waiters.get(`${topic}\u0000${partition}`);
    if (set) for (const done of [...set]) done();
  }

  private wakeAll(topic: string): void {
    for (const [key, set] of this.waiters) {
      if (key.startsWith(`${topic}\u0000`)) for (const done of [...set]) done();
    }
  }

  private require(name: string): OpenTopic {
    const t = this.topics.get(name);
    if (!t) throw new RobustMQError('NOT_FOUND', `unknown topic "${name}"`);
    return t;
  }

  private engineFor(kind: StorageKind): StorageEngine {
    const engine = this.engines[kind];
    if (!engine) throw engineUnavailable(kind, this.available());
    return engine;
  }

  private async open(record: TopicRecord): Promise<void> {
    const engine = this.engineFor(record.storage);
    const config = logConfigOf(record);
    const logs: PartitionLog[] = [];
    for (let p = 0; p < record.partitions; p++) logs.push(await engine.openPartition({ topic: record.name, partition: p }, config));
    this.topics.set(record.name, { record, logs });
  }

  private validateSpec(spec: CreateTopicSpec, existing = false): TopicRecord {
    return topicRecordOf(spec, this.defaults, existing ? undefined : this.available());
  }

  private available(): StorageKind[] {
    return (Object.keys(this.engines) as StorageKind[]).filter((kind) => this.engines[kind] !== undefined);
  }
}

export function logConfigOf(record: TopicRecord): LogConfig {
  return {
    retentionMs: record.retentionMs,
    retentionBytes: record.retentionBytes,
    ...(record.flush !== undefined ? { flush: parseFlushPolicy(record.flush) } : {}),
  };
}
