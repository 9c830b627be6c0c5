/**
 * The embedded MetaStore: single process, file-backed, everything held in memory for reads.
 *
 * Durability: every write is one framed record (frame.ts) appended to `meta.log` and fsynced (fdatasync) before
 * its promise resolves; concurrent writes share a sync (group-commit.ts). A transaction is one record, so it is
 * replayed whole or not at all. On open the log is replayed up to the first torn or corrupt frame, which is cut
 * off. When the log outgrows max(`compactAfterBytes`, 2 × live size) it is replaced by a snapshot.
 *
 * Consistency: conditions are checked and writes applied to memory synchronously, in call order, so CAS is
 * linearizable within the process. Reads and failed conditions wait until every write they could have observed
 * in their namespace is durable, so nothing that a crash could still undo is ever reported to a caller.
 *
 * Values must be JSON-able: they are stored as JSON text and every read returns a fresh parse, so a Date comes
 * back as a string and `undefined` properties vanish, before and after a restart alike. Buffers are not supported.
 * A put without `ttlMs` makes the entry permanent even if it had a TTL. Expired entries behave as absent (a create
 * with expectedVersion 0 succeeds, a new entry starts at version 1) and are purged lazily and at compaction; an
 * expiry emits no watch event. After a delete the key starts again at version 1.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../../logger.js';
import { RobustMQError } from '../../errors.js';
import type { Change, DeleteOptions, Entry, MetaStore, Namespace, PutOptions, TransactOp } from '../store.js';
import { encodeFrame } from './frame.js';
import { GroupCommitter } from './group-commit.js';
import { acquireLock, type ReleaseLock } from './lock.js';
import { LogFile, SnapshotNotInstalled } from './log-file.js';
import { deleteItem, parseWritePayload, writePayload } from './log-record.js';
import { MetaState, storedOf, toEntry, type Stored } from './state.js';
import { checkTarget, checkTransact, checkTtl, checkVersion, encodeValue } from './validate.js';
import { WatchHub, type PendingChange } from './watchers.js';

export interface EmbeddedMetaOptions {
  /** The log is compacted once larger than this and twice the live data. @default 16 MiB */
  readonly compactAfterBytes?: number;
  readonly log?: Logger;
}

export interface EmbeddedMetaStats {
  logBytes: number;
  liveBytes: number;
  compactions: number;
  /** Write+sync rounds; fewer than writes when group commit batched them. */
  commitRounds: number;
}

const SNAPSHOT_RECORD_BYTES = 1024 * 1024;

export class EmbeddedMetaStore implements MetaStore {
  readonly kind = 'embedded' as const;
  private readonly committer: GroupCommitter;
  private readonly watchers: WatchHub;
  private readonly lastWrite = new Map<Namespace, { seq: number; done: Promise<void> }>();
  private readonly compactAfterBytes: number;
  private compactRetryAt = 0;
  private compactions = 0;
  private closing: Promise<void> | undefined;

  /** Opens (creating if needed) the store in `dir`; fails if another live process has it open. */
  static async open(dir: string, options: EmbeddedMetaOptions = {}): Promise<EmbeddedMetaStore> {
    await mkdir(dir, { recursive: true });
    const release = await acquireLock(dir);
    try {
      const state = new MetaState();
      const { file, stats } = await LogFile.open(dir, (payload) => replayRecord(state, payload), options.log);
      options.log?.debug({ dir, frames: stats.frames, logBytes: file.size }, 'meta store opened');
      return new EmbeddedMetaStore(state, file, release, options);
    } catch (err) {
      await release();
      throw err;
    }
  }

  private constructor(
    private readonly state: MetaState,
    private readonly file: LogFile,
    private readonly release: ReleaseLock,
    private readonly options: EmbeddedMetaOptions,
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? 16 * 1024 * 1024;
    this.committer = new GroupCommitter((payloads) => this.writeBatch(payloads));
    this.watchers = new WatchHub(options.log);
  }

  async get<T>(ns: Namespace, key: string): Promise<Entry<T> | undefined> {
    this.usable();
    checkTarget(ns, key);
    const stored = this.state.live(ns, key, Date.now());
    await this.settled([ns]);
    return stored && toEntry<T>(ns, key, stored);
  }

  async list<T>(ns: Namespace, prefix = ''): Promise<Entry<T>[]> {
    this.usable();
    checkTarget(ns, 'list');
    const found = this.state.list(ns, prefix, Date.now());
    await this.settled([ns]);
    return found.map(([key, stored]) => toEntry<T>(ns, key, stored));
  }

  async put<T>(ns: Namespace, key: string, value: T, options: PutOptions = {}): Promise<Entry<T>> {
    this.usable();
    checkTarget(ns, key);
    checkVersion(options.expectedVersion);
    checkTtl(options.ttlMs);
    const valueJson = encodeValue(value);
    const now = Date.now();
    const current = this.state.live(ns, key, now);
    // Check and apply in the same tick: no await may come between them, or concurrent CAS writers could all pass.
    if (!matches(current, options.expectedVersion)) await this.conflict(ns, key, current, options.expectedVersion);
    const expiresAt = options.ttlMs === undefined ? undefined : now + options.ttlMs;
    const { stored, item } = storedOf(ns, key, (current?.version ?? 0) + 1, valueJson, expiresAt);
    this.state.set(ns, key, stored);
    await this.commit([item], [{ type: 'put', ns, key, stored }], [ns]);
    return toEntry<T>(ns, key, stored);
  }

  async delete(ns: Namespace, key: string, options: DeleteOptions = {}): Promise<boolean> {
    this.usable();
    checkTarget(ns, key);
    checkVersion(options.expectedVersion);
    const current = this.state.live(ns, key, Date.now());
    if (!matches(current, options.expectedVersion)) await this.conflict(ns, key, current, options.expectedVersion);
    if (current === undefined) {
      await this.settled([ns]);
      return false;
    }
    this.state.remove(ns, key);
    await this.commit([deleteItem(ns, key)], [{ type: 'delete', ns, key }], [ns]);
    return true;
  }

  async transact(ops: TransactOp[]): Promise<void> {
    this.usable();
    checkTransact(ops);
    const now = Date.now();
    const namespaces = new Set(ops.map((op) => op.ns));
    const current = ops.map((op) => this.state.live(op.ns, op.key, now));
    const failed = ops.findIndex((op, i) => !matches(current[i], op.expectedVersion));
    if (failed >= 0) {
      const op = ops[failed];
      await this.conflict(op.ns, op.key, current[failed], op.expectedVersion, `transact op ${failed} (${op.op})`);
    }
    const items: string[] = [];
    const changes: PendingChange[] = [];
    ops.forEach((op, i) => {
      const cur = current[i];
      if (op.op === 'put') {
        const expiresAt = op.ttlMs === undefined ? undefined : now + op.ttlMs;
        const { stored, item } = storedOf(op.ns, op.key, (cur?.version ?? 0) + 1, encodeValue(op.value), expiresAt);
        items.push(item);
        changes.push({ type: 'put', ns: op.ns, key: op.key, stored });
      } else if (op.op === 'delete' && cur !== undefined) {
        items.push(deleteItem(op.ns, op.key));
        changes.push({ type: 'delete', ns: op.ns, key: op.key });
      }
    });
    // Applied only once every value has been encoded, so a bad value leaves nothing half-applied.
    for (const change of changes) {
      if (change.stored !== undefined) this.state.set(change.ns, change.key, change.stored);
      else this.state.remove(change.ns, change.key);
    }
    if (items.length === 0) await this.settled(namespaces);
    else await this.commit(items, changes, namespaces);
  }

  watch<T>(ns: Namespace, listener: (change: Change<T>) => void): () => void {
    this.usable();
    checkTarget(ns, 'watch');
    return this.watchers.add(ns, listener as (change: Change<unknown>) => void);
  }

  /** Waits for queued writes, closes the log and releases the directory lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.committer.idle();
        this.watchers.clear();
        await this.file.close();
      } finally {
        await this.release();
      }
    })();
    return this.closing;
  }

  stats(): EmbeddedMetaStats {
    return {
      logBytes: this.file.size,
      liveBytes: this.state.liveBytes,
      compactions: this.compactions,
      commitRounds: this.committer.rounds,
    };
  }

  private usable(): void {
    if (this.closing !== undefined) throw new RobustMQError('CLOSED', 'meta store is closed');
    if (this.committer.failure !== undefined) throw unavailable(this.committer.failure);
  }

  /** Rejects with CONFLICT, once the state the decision was based on is durable. */
  private async conflict(
    ns: Namespace,
    key: string,
    current: Stored | undefined,
    expected: number | undefined,
    what = 'write',
  ): Promise<never> {
    await this.settled([ns]);
    const actual = current === undefined ? 'absent' : `version ${current.version}`;
    throw new RobustMQError('CONFLICT', `${what} on ${ns}/${key}: expected version ${expected}, found ${actual}`);
  }

  /** Waits until the last write issued so far in each namespace is durable. */
  private async settled(namespaces: Iterable<Namespace>): Promise<void> {
    for (const ns of namespaces) {
      const last = this.lastWrite.get(ns);
      if (last === undefined || last.seq <= this.committer.durableSeq) continue;
      await last.done.catch((err: unknown) => {
        throw unavailable(err);
      });
    }
  }

  private async commit(items: string[], changes: PendingChange[], namespaces: Iterable<Namespace>): Promise<void> {
    const { seq, done } = this.committer.submit(writePayload(items));
    for (const ns of namespaces) this.lastWrite.set(ns, { seq, done });
    done.then(
      () => this.watchers.publish(changes),
      () => undefined,
    );
    await done.catch((err: unknown) => {
      throw unavailable(err);
    });
  }

  /** Group-commit sink. Runs synchronously up to its first await, so a snapshot sees exactly durable + this batch. */
  private writeBatch(payloads: Buffer[]): Promise<void> {
    const threshold = Math.max(this.compactAfterBytes, 2 * this.state.liveBytes, this.compactRetryAt);
    if (this.file.size <= threshold) return this.file.append(payloads.map(encodeFrame));
    return this.compact(this.snapshotFrames(), payloads);
  }

  private async compact(snapshot: Buffer[], payloads: Buffer[]): Promise<void> {
    const before = this.file.size;
    try {
      await this.file.replace(snapshot);
    } catch (err) {
      if (!(err instanceof SnapshotNotInstalled)) throw err;
      // The old log is intact: keep appending to it and try again once it has doubled.
      this.options.log?.warn({ err: err.cause }, 'meta log compaction failed; will retry later');
      this.compactRetryAt = before * 2;
      await this.file.append(payloads.map(encodeFrame));
      return;
    }
    this.compactRetryAt = 0;
    this.compactions++;
    this.options.log?.debug({ before, after: this.file.size }, 'meta log compacted');
  }

  private snapshotFrames(): Buffer[] {
    const frames: Buffer[] = [];
    let chunk: string[] = [];
    let bytes = 0;
    for (const item of this.state.snapshotItems(Date.now())) {
      chunk.push(item);
      bytes += item.length;
      if (bytes >= SNAPSHOT_RECORD_BYTES) {
        frames.push(encodeFrame(writePayload(chunk)));
        chunk = [];
        bytes = 0;
      }
    }
    if (chunk.length > 0) frames.push(encodeFrame(writePayload(chunk)));
    return frames;
  }
}

function replayRecord(state: MetaState, payload: Buffer): boolean {
  const items = parseWritePayload(payload);
  if (items === undefined) return false;
  for (const item of items) state.applyReplay(item);
  return true;
}

/** expectedVersion semantics: omitted = unconditional, 0 = must not exist, n = current version must be n. */
function matches(current: Stored | undefined, expected: number | undefined): boolean {
  return expected === undefined || (current?.version ?? 0) === expected;
}

function unavailable(cause: unknown): RobustMQError {
  if (cause instanceof RobustMQError) return cause;
  return new RobustMQError('STORAGE_UNAVAILABLE', 'meta log write failed; the store must be reopened', {
    cause,
    retriable: false,
  });
}
