/**
 * Leadership gating of storage. In a cluster every broker knows every topic, but only a partition's leader may
 * touch its log: the TopicManager of a broker holds a GatedLog per partition, which serves calls only while this
 * broker leads the partition at the current epoch and answers NOT_LEADER otherwise (Kafka: NOT_LEADER_OR_FOLLOWER,
 * which clients retry after refreshing metadata; the Kafka front-end forwards instead, see
 * protocols/kafka/cluster).
 *
 * - `acquire(epoch)` opens the engine's log then — for the S3 engine in shared mode that loads everything the
 *   previous leader committed, which it can no longer add to (it was fenced, or handed the partition over).
 * - `release()` stops new calls at once, waits for appends in flight, then lets the engine forget the partition
 *   (`releasePartition`) so a later acquire loads it afresh; only then may leadership pass to another broker.
 *
 * An engine that reports NOT_LEADER while the gate believes it leads has been fenced as a whole (its broker lost
 * its lease): `onFenced` tells the cluster, which stops the broker.
 */
import { isRobustMQError, RobustMQError } from '../errors.js';
import type {
  AppendResult,
  LogConfig,
  PartitionId,
  PartitionLog,
  ReadResult,
  StorageEngine,
  TimeLookup,
} from '../storage/engine.js';

/** Engines that can stop serving a partition without dropping its data (runtime/storage/s3). */
interface ReleasingEngine extends StorageEngine {
  releasePartition(id: PartitionId): Promise<void>;
}

function canRelease(engine: StorageEngine): engine is ReleasingEngine {
  return typeof (engine as Partial<ReleasingEngine>).releasePartition === 'function';
}

export class GatedLog implements PartitionLog {
  private inner: PartitionLog | undefined;
  private leaderEpoch = -1;
  private inflight = new Set<Promise<unknown>>();
  private transition: Promise<void> = Promise.resolve();

  constructor(
    readonly id: PartitionId,
    private config: LogConfig,
    private readonly engine: StorageEngine,
    private readonly onFenced: (err: RobustMQError) => void,
  ) {}

  /** The epoch this broker serves the partition at, or -1 when it does not lead it. */
  get epoch(): number {
    return this.inner ? this.leaderEpoch : -1;
  }

  /** Starts serving at `epoch` (opening the log is the slow part; calls wait for NOT_LEADER until it is done). */
  acquire(epoch: number): Promise<void> {
    return this.step(async () => {
      if (this.inner) {
        this.leaderEpoch = epoch;
        return;
      }
      const log = await this.engine.openPartition(this.id, this.config);
      this.inner = log;
      this.leaderEpoch = epoch;
    });
  }

  /** Stops serving; resolves once nothing this broker started can still reach storage. */
  release(): Promise<void> {
    return this.step(async () => {
      if (!this.inner) return;
      this.inner = undefined;
      this.leaderEpoch = -1;
      await Promise.allSettled([...this.inflight]);
      if (canRelease(this.engine)) await this.engine.releasePartition(this.id);
    });
  }

  highWatermark(): number {
    return this.inner?.highWatermark() ?? -1;
  }

  logStartOffset(): number {
    return this.inner?.logStartOffset() ?? -1;
  }

  sizeBytes(): number {
    return this.inner?.sizeBytes() ?? 0;
  }

  append(batches: Buffer): Promise<AppendResult> {
    return this.call((log) => log.append(batches));
  }

  read(offset: number, maxBytes: number): Promise<ReadResult> {
    return this.call((log) => log.read(offset, maxBytes));
  }

  offsetForTime(timestamp: number): Promise<TimeLookup | undefined> {
    return this.call((log) => log.offsetForTime(timestamp));
  }

  maxTimestamp(): Promise<TimeLookup | undefined> {
    return this.call((log) => log.maxTimestamp());
  }

  deleteRecordsBefore(offset: number): Promise<number> {
    return this.call((log) => log.deleteRecordsBefore(offset));
  }

  /** Only the leader applies retention; elsewhere this is a no-op. */
  async enforceRetention(nowMs: number): Promise<number> {
    if (!this.inner) return -1;
    return this.call((log) => log.enforceRetention(nowMs));
  }

  updateConfig(config: LogConfig): void {
    this.config = { ...config };
    this.inner?.updateConfig(config);
  }

  private call<T>(fn: (log: PartitionLog) => Promise<T>): Promise<T> {
    const log = this.inner;
    if (!log) {
      return Promise.reject(new RobustMQError('NOT_LEADER', `this broker does not lead ${this.id.topic}-${this.id.partition}`));
    }
    const run = fn(log).catch((err: unknown) => {
      // The engine itself refused: its broker-wide write lease was taken (this broker was declared dead).
      if (isRobustMQError(err, 'NOT_LEADER') && this.inner === log) this.onFenced(err);
      throw err;
    });
    this.inflight.add(run);
    const done = (): void => void this.inflight.delete(run);
    run.then(done, done);
    return run;
  }

  /** Acquire and release run one at a time, in call order. */
  private step(fn: () => Promise<void>): Promise<void> {
    const next = this.transition.catch(() => undefined).then(fn);
    this.transition = next;
    return next;
  }
}

/** A StorageEngine whose partition logs are GatedLogs over another engine's. */
export class GatedEngine implements StorageEngine {
  readonly kind: StorageEngine['kind'];
  private readonly logs = new Map<string, GatedLog>();

  constructor(
    private readonly inner: StorageEngine,
    private readonly onFenced: (err: RobustMQError) => void,
  ) {
    this.kind = inner.kind;
  }

  async openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog> {
    const key = `${id.topic}\u0000${id.partition}`;
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = new GatedLog(id, config, this.inner, this.onFenced)));
    return log;
  }

  /** The gated log of a partition this process knows, if any. */
  log(topic: string, partition: number): GatedLog | undefined {
    return this.logs.get(`${topic}\u0000${partition}`);
  }

  /** Drops the partition's data (topic deletion, decided by whoever deleted it). */
  async dropPartition(id: PartitionId): Promise<void> {
    const key = `${id.topic}\u0000${id.partition}`;
    const log = this.logs.get(key);
    this.logs.delete(key);
    await log?.release();
    await this.inner.dropPartition(id);
  }

  /** Forgets a partition without dropping its data (its topic was deleted by another broker). */
  async forgetPartition(id: PartitionId): Promise<void> {
    const key = `${id.topic}\u0000${id.partition}`;
    const log = this.logs.get(key);
    this.logs.delete(key);
    await log?.release();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
