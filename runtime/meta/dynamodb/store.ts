/**
 * The DynamoDB MetaStore: the same contract as the embedded store, kept in one DynamoDB table so that brokers are
 * stateless — a broker started on a new machine with an empty data dir and the same table serves everything.
 * Works with AWS (on-demand billing), LocalStack, ScyllaDB Alternator and, in tests, dynalite.
 *
 * Consistency: every read is strongly consistent and every conditional write is a DynamoDB condition expression,
 * so compare-and-set (versions, and through them leader epochs and leases) is linearizable across all brokers.
 * Expired entries are filtered by the store (DynamoDB's TTL deletes them only eventually) and count as absent for
 * compare-and-set. A transaction is one TransactWriteItems call (transact.ts).
 *
 * Faults: throttling, 5xx, timeouts and connection resets are retried by the SDK (standard retry mode, backoff
 * with jitter, `maxAttempts`); what still fails is STORAGE_UNAVAILABLE. A failed condition is CONFLICT and never
 * retried blindly; a write whose earlier attempt may have applied is checked through its write id (items.ts).
 *
 * Values must be JSON-able, as for the embedded store, and fit DynamoDB's 400 KB item limit (larger ones are
 * INVALID_ARGUMENT). Keys are at most 1024 UTF-8 bytes. Lists are returned in UTF-16 order, like the embedded store.
 */
import type { Logger } from '../../logger.js';
import { RobustMQError } from '../../errors.js';
import type { Change, DeleteOptions, Entry, MetaStore, Namespace, PutOptions, TransactOp } from '../store.js';
import { checkTarget, checkTtl, checkVersion, encodeValue } from '../embedded/validate.js';
import { createDynamoClient, type DynamoClientOptions } from './client.js';
import { byKey, checkItemSize, checkKey, isLive, toEntry } from './item.js';
import { deleteStored, getStored, putAny, putExpected, queryStored, type Table } from './items.js';
import { ensureTable } from './table.js';
import { prepareTransact, runTransact } from './transact.js';
import { DynamoWatchHub } from './watch.js';

export interface DynamoMetaOptions extends DynamoClientOptions {
  /** The table is `<tablePrefix>-meta`. @default 'robustmq' */
  readonly tablePrefix?: string;
  /** Create the table (on-demand billing, TTL on `ttl`) when it is missing. @default true */
  readonly createTables?: boolean;
  /** How often namespaces with watchers are polled for other processes' changes. @default 1000 */
  readonly pollMs?: number;
  readonly log?: Logger;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{1,250}$/;

/** The meta table's name for a prefix; DynamoDB allows 3–255 characters of [A-Za-z0-9_.-]. */
export function metaTableName(prefix: string): string {
  if (!TABLE_NAME.test(prefix)) {
    throw new RobustMQError('INVALID_ARGUMENT', `DynamoDB table prefix "${prefix}" must be 1-250 characters of A-Z a-z 0-9 _ . -`);
  }
  return `${prefix}-meta`;
}

export class DynamoMetaStore implements MetaStore {
  readonly kind = 'dynamodb' as const;
  private readonly watchers: DynamoWatchHub;
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  /** Connects, and creates the table unless `createTables` is false (then it must exist). */
  static async open(options: DynamoMetaOptions): Promise<DynamoMetaStore> {
    const name = metaTableName(options.tablePrefix ?? 'robustmq');
    const client = createDynamoClient(options);
    try {
      await ensureTable(client, name, { create: options.createTables ?? true, ...(options.log ? { log: options.log } : {}) });
    } catch (err) {
      client.destroy();
      throw err;
    }
    options.log?.debug({ table: name, endpoint: options.endpoint, region: options.region }, 'DynamoDB meta store opened');
    return new DynamoMetaStore({ client, name }, options);
  }

  private constructor(
    private readonly table: Table,
    options: DynamoMetaOptions,
  ) {
    this.watchers = new DynamoWatchHub((ns) => queryStored(table, ns, ''), options.pollMs ?? 1000, options.log);
  }

  get tableName(): string {
    return this.table.name;
  }

  async get<T>(ns: Namespace, key: string): Promise<Entry<T> | undefined> {
    this.usable();
    checkTarget(ns, key);
    checkKey(key);
    return this.track(async () => {
      const stored = await getStored(this.table, ns, key);
      return stored !== undefined && isLive(stored, Date.now()) ? toEntry<T>(ns, stored) : undefined;
    });
  }

  async list<T>(ns: Namespace, prefix = ''): Promise<Entry<T>[]> {
    this.usable();
    checkTarget(ns, 'list');
    if (prefix !== '') checkKey(prefix);
    return this.track(async () => {
      const items = await queryStored(this.table, ns, prefix);
      const now = Date.now();
      return items.filter((s) => isLive(s, now)).sort(byKey).map((s) => toEntry<T>(ns, s));
    });
  }

  async put<T>(ns: Namespace, key: string, value: T, options: PutOptions = {}): Promise<Entry<T>> {
    this.usable();
    checkTarget(ns, key);
    checkKey(key);
    checkVersion(options.expectedVersion);
    checkTtl(options.ttlMs);
    const valueJson = encodeValue(value);
    checkItemSize(ns, key, valueJson);
    return this.write([{ ns, key }], async () => {
      const expiresAt = options.ttlMs === undefined ? undefined : Date.now() + options.ttlMs;
      const stored =
        options.expectedVersion === undefined
          ? await putAny(this.table, ns, key, valueJson, expiresAt)
          : await putExpected(this.table, ns, key, valueJson, options.expectedVersion, expiresAt);
      this.watchers.local([{ type: 'put', ns, key, stored }]);
      return toEntry<T>(ns, stored);
    });
  }

  async delete(ns: Namespace, key: string, options: DeleteOptions = {}): Promise<boolean> {
    this.usable();
    checkTarget(ns, key);
    checkKey(key);
    checkVersion(options.expectedVersion);
    return this.write([{ ns, key }], async () => {
      const removed = await deleteStored(this.table, ns, key, options.expectedVersion);
      if (removed) this.watchers.local([{ type: 'delete', ns, key }]);
      return removed;
    });
  }

  async transact(ops: TransactOp[]): Promise<void> {
    this.usable();
    const prepared = prepareTransact(ops);
    if (prepared.length === 0) return;
    const targets = prepared.filter(({ op }) => op.op !== 'check').map(({ op }) => op);
    await this.write(targets, async () => this.watchers.local(await runTransact(this.table, prepared)));
  }

  watch<T>(ns: Namespace, listener: (change: Change<T>) => void): () => void {
    this.usable();
    checkTarget(ns, 'watch');
    return this.watchers.add(ns, listener as (change: Change<unknown>) => void);
  }

  /** Lets calls in flight finish, stops polling and closes the connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inflight]);
      this.watchers.close();
      this.table.client.destroy();
    })();
    return this.closing;
  }

  private usable(): void {
    if (this.closing !== undefined) throw new RobustMQError('CLOSED', 'meta store is closed');
  }

  /** Tracks a write, keeping pollers off its entries until it has settled and its changes are delivered. */
  private write<T>(targets: ReadonlyArray<{ ns: Namespace; key: string }>, run: () => Promise<T>): Promise<T> {
    const end = this.watchers.begin(targets);
    return this.track(async () => {
      try {
        return await run();
      } finally {
        end();
      }
    });
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    const promise = run();
    this.inflight.add(promise);
    const done = () => this.inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }
}
