/**
 * The metadata layer. A MetaStore is a small, strongly consistent key-value store split into namespaces, with
 * compare-and-set on a per-entry version, optional expiry (leases) and change notification. Typed views for
 * topics, groups, sessions and so on (runtime/meta/records.ts) sit on top, so each implementation only has to get
 * these few operations right. Implementations: `embedded` (file-backed, single process) and `dynamodb`.
 */

export type Namespace =
  | 'topics'
  | 'partitions'
  | 'brokers'
  | 'group-offsets'
  | 'groups'
  | 'sessions'
  | 'retained'
  | 'producers'
  | 'users'
  | 'acls'
  | 'cluster'
  | 'mqtt-queue'
  /** MQTT sessions' offset cursors into bound topics (key = client id, NUL, topic). */
  | 'mqtt-cursors'
  /** Cluster MQTT: per broker id, the filters its sessions subscribe to (runtime/cluster/mqtt-routes.ts). */
  | 'mqtt-routes'
  /** Cluster MQTT: wills of connected clients (key = broker id, NUL, client id), sent if that broker dies. */
  | 'mqtt-wills'
  /** S3 engine: one lease (fencing token) per broker writing objects. */
  | 's3-leases'
  /** S3 engine: one item per committed object, holding its per-partition offset ranges. */
  | 's3-objects'
  /** S3 engine: per partition, its incarnation and log start offset. */
  | 's3-partitions';

export const NAMESPACES: readonly Namespace[] = [
  'topics',
  'partitions',
  'brokers',
  'group-offsets',
  'groups',
  'sessions',
  'retained',
  'producers',
  'users',
  'acls',
  'cluster',
  'mqtt-queue',
  'mqtt-cursors',
  'mqtt-routes',
  'mqtt-wills',
  's3-leases',
  's3-objects',
  's3-partitions',
];

export interface Entry<T = unknown> {
  readonly ns: Namespace;
  readonly key: string;
  readonly value: T;
  /** Starts at 1 on creation and grows by one on every write. */
  readonly version: number;
  /** Epoch milliseconds after which the entry no longer exists, when it was written with a TTL. */
  readonly expiresAt?: number;
}

export interface PutOptions {
  /**
   * Compare-and-set: the write happens only if the current version equals this. 0 means "must not exist".
   * Omitted means unconditional.
   */
  expectedVersion?: number;
  /** The entry expires this many milliseconds after the write (leases). */
  ttlMs?: number;
}

export interface DeleteOptions {
  expectedVersion?: number;
}

export type TransactOp =
  | { op: 'put'; ns: Namespace; key: string; value: unknown; expectedVersion?: number; ttlMs?: number }
  | { op: 'delete'; ns: Namespace; key: string; expectedVersion?: number }
  /** Asserts an entry's version without writing it (fencing: "the leader epoch is still N"). */
  | { op: 'check'; ns: Namespace; key: string; expectedVersion: number };

export interface Change<T = unknown> {
  readonly type: 'put' | 'delete';
  readonly ns: Namespace;
  readonly key: string;
  /** The new entry for puts. */
  readonly entry?: Entry<T>;
}

export interface MetaStore {
  readonly kind: 'embedded' | 'dynamodb';
  get<T>(ns: Namespace, key: string): Promise<Entry<T> | undefined>;
  /** Entries of a namespace whose key starts with `prefix`, in key order. */
  list<T>(ns: Namespace, prefix?: string): Promise<Entry<T>[]>;
  /** Writes an entry; rejects with a RobustMQError code CONFLICT when `expectedVersion` does not match. */
  put<T>(ns: Namespace, key: string, value: T, options?: PutOptions): Promise<Entry<T>>;
  /** Removes an entry; resolves false when it did not exist. CONFLICT on a version mismatch. */
  delete(ns: Namespace, key: string, options?: DeleteOptions): Promise<boolean>;
  /** All-or-nothing: every condition holds and every write applies, or CONFLICT and nothing changes. */
  transact(ops: TransactOp[]): Promise<void>;
  /**
   * Calls `listener` for changes in `ns` (from this process at least; from others too when the implementation
   * can see them, by polling or streams). Returns an unsubscribe function.
   */
  watch<T>(ns: Namespace, listener: (change: Change<T>) => void): () => void;
  close(): Promise<void>;
}
