/**
 * The write path of the S3 engine: every append of every partition this broker leads is buffered, and one object
 * is written per flush — when the oldest buffered append has waited `flushMs`, when `flushBytes` are buffered, or
 * when `flush()` asks — then committed (fence.ts) and only then acknowledged. Flushes run one at a time, so
 * commits happen in offset order and a failed one can simply be rebuilt from the committed ends.
 *
 * Failures: a PUT or commit that fails retriably (503 SlowDown, 500, timeout, reset) is retried with backoff and
 * jitter, rebuilding the object from the appends still waiting. An append not committed by its deadline is
 * rejected with a retriable STORAGE_UNAVAILABLE at once. An object whose PUT returns after one of its appends was
 * rejected is not committed (it is rebuilt without that append), so a rejected append is stored only if its
 * deadline passes during the commit itself (at-least-once, as with any produce request that timed out). A fenced
 * broker rejects with NOT_LEADER.
 */
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import type { AppendResult } from '../engine.js';
import type { BatchHeader } from '../record-batch.js';
import { Block } from './block.js';
import { buildObject, selectAppends, type BuiltObject, type PendingAppend } from './build.js';
import { BlockCache } from './cache.js';
import { commitObject, type Fence } from './fence.js';
import { encodeItem } from './format.js';
import type { S3Keys } from './keys.js';
import { unavailable, type ObjectStore } from './object-store.js';
import type { S3PartitionLog } from './partition.js';
import { backoffDelay, isRetriable, sleep } from './retry.js';

export interface WriterOptions {
  readonly flushMs: number;
  readonly flushBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxPartitionsPerObject: number;
  readonly appendTimeoutMs: number;
  readonly keys: S3Keys;
  readonly store: ObjectStore;
  readonly meta: MetaStore;
  readonly fence: Fence;
  readonly cache: BlockCache;
  /** Aborted when the engine has drained and closes. */
  readonly signal: AbortSignal;
  readonly log?: Logger;
  /** Called with every object committed (the catalog records it for compaction and garbage collection). */
  readonly onCommitted: (objectKey: string, metaKey: string, built: BuiltObject, item: ReturnType<typeof encodeItem>) => void;
}

export interface WriterStats {
  flushes: number;
  commits: number;
  failedAttempts: number;
  timedOut: number;
  /** Objects written but not committed because appends in them had timed out meanwhile. */
  rebuilt: number;
}

export class Writer {
  readonly stats: WriterStats = { flushes: 0, commits: 0, failedAttempts: 0, timedOut: 0, rebuilt: 0 };
  private buffer: PendingAppend[] = [];
  private bufferedBytes = 0;
  private inflight: PendingAppend[] = [];
  private running = false;
  private flushRequested = false;
  private closing = false;
  private timer: NodeJS.Timeout | undefined;
  /** The flush in progress (settled), for `settlePartition`. */
  private flushing: Promise<void> = Promise.resolve();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: WriterOptions) {
    const tick = Math.min(200, Math.max(5, Math.floor(o.appendTimeoutMs / 10)));
    this.sweeper = setInterval(() => this.expire(Date.now()), tick);
    this.sweeper.unref();
  }

  enqueue(part: S3PartitionLog, data: Buffer, headers: BatchHeader[]): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new RobustMQError('CLOSED', 'the S3 storage engine is closing'));
    if (this.o.fence.fenced) return Promise.reject(this.o.fence.notLeader());
    if (this.buffer.length > 0 && this.bufferedBytes + data.length > this.o.maxBufferedBytes) {
      return Promise.reject(new RobustMQError('STORAGE_UNAVAILABLE', 'S3 write buffer full: objects are not being committed fast enough'));
    }
    const now = Date.now();
    let resolve!: (r: AppendResult) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<AppendResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const a: PendingAppend = {
      part,
      data,
      headers,
      deadline: now + this.o.appendTimeoutMs,
      enqueuedAt: now,
      settled: false,
      baseOffset: -1,
      lastOffset: -1,
      done: promise.then(
        () => undefined,
        () => undefined,
      ),
      resolve: (r) => {
        if (a.settled) return;
        a.settled = true;
        resolve(r);
      },
      reject: (err) => {
        if (a.settled) return;
        a.settled = true;
        reject(err);
      },
    };
    this.buffer.push(a);
    this.bufferedBytes += data.length;
    this.schedule();
    return promise;
  }

  /** Flushes everything buffered now and waits for those appends to settle. */
  async flush(): Promise<void> {
    const waiting = [...this.inflight, ...this.buffer];
    if (waiting.length === 0) return;
    this.flushRequested = true;
    this.schedule();
    await Promise.all(waiting.map((a) => a.done));
  }

  /** Rejects the waiting appends of a dropped partition (CLOSED). */
  dropPartition(part: S3PartitionLog): void {
    const err = new RobustMQError('CLOSED', `partition ${part.label} was dropped`);
    for (const a of [...this.inflight, ...this.buffer]) if (a.part === part) a.reject(err);
    this.removeSettled();
  }

  /**
   * Rejects the part's buffered appends with `err` and resolves once no flush in progress carries its data, so
   * nothing of this partition can be committed by this engine afterwards (cluster: leadership moved away).
   */
  async settlePartition(part: S3PartitionLog, err: Error): Promise<void> {
    for (const a of this.buffer) if (a.part === part) a.reject(err);
    this.removeSettled();
    while (this.inflight.some((a) => a.part === part)) await this.flushing;
  }

  /** Stops taking appends, writes what is buffered (each append bounded by its deadline), stops timers. */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
    clearInterval(this.sweeper);
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.running || this.buffer.length === 0) return;
    const now = Date.now();
    const due = this.flushRequested || this.closing || this.bufferedBytes >= this.o.flushBytes;
    const wait = due ? 0 : this.buffer[0].enqueuedAt + this.o.flushMs - now;
    if (wait <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.pump();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      this.timer.unref();
    }
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.buffer.length > 0) {
        const due = this.flushRequested || this.closing || this.bufferedBytes >= this.o.flushBytes;
        if (!due && Date.now() - this.buffer[0].enqueuedAt < this.o.flushMs) break;
        const { take, keep } = selectAppends(this.buffer, this.o.flushBytes, this.o.maxPartitionsPerObject);
        this.buffer = keep;
        this.bufferedBytes = keep.reduce((n, a) => n + a.data.length, 0);
        if (keep.length === 0) this.flushRequested = false;
        this.inflight = take;
        const flushing = this.flushOnce(take);
        this.flushing = flushing.catch(() => undefined);
        try {
          await flushing;
        } catch (err) {
          // flushOnce settles its appends itself; anything escaping is a bug, so fail them rather than hang.
          this.o.log?.error({ err }, 'S3 flush failed unexpectedly');
          for (const a of take) a.reject(unavailable('flush', err));
        }
        this.inflight = [];
      }
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  private async flushOnce(appends: PendingAppend[]): Promise<void> {
    this.stats.flushes++;
    for (let attempt = 0; ; attempt++) {
      const live = appends.filter((a) => !a.settled);
      if (live.length === 0) return;
      if (this.o.fence.fenced) return this.fail(live, this.o.fence.notLeader());
      const built = buildObject(live, this.o.fence.epoch);
      const objectKey = this.o.keys.newObjectKey();
      const metaKey = this.o.keys.metaObjectKey(objectKey);
      const item = encodeItem(built.ranges, { createdAt: Date.now(), writer: this.o.fence.brokerId, epoch: this.o.fence.epoch });
      let step = 'PUT';
      try {
        await this.o.store.putOnce(objectKey, built.body);
        if (live.some((a) => a.settled)) {
          // Some of these appends were rejected (deadline) while the PUT ran: committing the object would store
          // records their producers were told failed. Leave it as an orphan (the sweep deletes it) and rebuild
          // from the appends still waiting.
          this.stats.rebuilt++;
          continue;
        }
        step = 'commit';
        const outcome = await commitObject(this.o.fence, this.o.meta, metaKey, item, this.o.signal, this.o.log);
        if (outcome === 'fenced') return this.fail([...live, ...this.buffer], this.o.fence.notLeader());
        if (outcome === 'committed') return this.apply(objectKey, metaKey, built, item, live);
        this.stats.failedAttempts++;
      } catch (err) {
        this.stats.failedAttempts++;
        if (!isRetriable(err) || this.o.signal.aborted) return this.fail(live, unavailable(step, err));
        this.o.log?.debug({ err, attempt, step }, 'S3 flush attempt failed, retrying');
      }
      await sleep(backoffDelay(attempt, { capMs: 1000 }), this.o.signal);
    }
  }

  /** The object is committed: indexes move first (nothing may stop that now), then producers hear, then the cache. */
  private apply(objectKey: string, metaKey: string, built: BuiltObject, item: ReturnType<typeof encodeItem>, live: PendingAppend[]): void {
    this.stats.commits++;
    const open = built.ranges.filter((r) => !r.part.closed);
    for (const r of open) {
      const next = r.lastOffset + 1;
      r.part.applyCommitted({ objectKey, base: r.baseOffset, next, position: r.position, size: r.size, maxTimestamp: r.maxTimestamp });
    }
    this.o.onCommitted(objectKey, metaKey, built, item);
    for (const a of live) {
      a.resolve({ baseOffset: a.baseOffset, lastOffset: a.lastOffset, logStartOffset: a.part.logStartOffset() });
    }
    for (const r of open) {
      try {
        this.o.cache.set(BlockCache.keyOf(objectKey, r.position), Block.parse(r.data, r.baseOffset, r.lastOffset + 1));
      } catch (err) {
        this.o.log?.error({ err, objectKey, partition: r.part.label }, 'committed range not cacheable; it will be read from S3');
      }
    }
  }

  private fail(appends: PendingAppend[], err: unknown): void {
    for (const a of appends) a.reject(err);
    this.removeSettled();
  }

  /** Rejects appends whose deadline passed, waiting or in flight. */
  private expire(now: number): void {
    let expired = 0;
    for (const a of [...this.inflight, ...this.buffer]) {
      if (!a.settled && a.deadline <= now) {
        expired++;
        a.reject(new RobustMQError('STORAGE_UNAVAILABLE', `append to ${a.part.label} not committed to S3 within ${this.o.appendTimeoutMs} ms`));
      }
    }
    if (expired > 0) {
      this.stats.timedOut += expired;
      this.removeSettled();
    }
  }

  private removeSettled(): void {
    if (!this.buffer.some((a) => a.settled)) return;
    this.buffer = this.buffer.filter((a) => !a.settled);
    this.bufferedBytes = this.buffer.reduce((n, a) => n + a.data.length, 0);
  }
}
