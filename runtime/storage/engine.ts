/**
 * The storage layer: every engine stores each partition as an ordered log of Kafka RecordBatch v2 bytes.
 * Engines assign offsets (rewriting each batch's base offset in place), serve reads by offset and by time, and
 * apply retention. They never re-encode a batch: what was appended is what a reader gets back.
 *
 * Offsets and timestamps are JavaScript numbers: exact up to 2^53, far beyond any log this process will hold.
 */

export type StorageKind = 'memory' | 'segment' | 's3';
export const STORAGE_KINDS: readonly StorageKind[] = ['memory', 'segment', 's3'];

/** Durability policy of an append: see each engine's TSDoc for what it means there. */
export type FlushPolicy = { mode: 'always' } | { mode: 'interval'; intervalMs: number } | { mode: 'os' };

export interface PartitionId {
  readonly topic: string;
  readonly partition: number;
}

export interface LogConfig {
  /** Records older than this are removed, whole batches (memory) or whole segments/objects at a time. -1 = forever. */
  retentionMs: number;
  /** The log is trimmed from the front while larger than this. -1 = unbounded. */
  retentionBytes: number;
  /** Engines that persist honour this; the memory engine ignores it. */
  flush?: FlushPolicy;
}

export interface AppendResult {
  /** Offset assigned to the first record of the first batch. */
  baseOffset: number;
  /** Offset of the last record of the last batch. */
  lastOffset: number;
  /** Log start offset after the append. */
  logStartOffset: number;
}

export interface ReadResult {
  /**
   * Whole batches, in order, as stored. The first batch is the one containing the requested offset (so it may
   * start before it). Never a partial batch. At least one batch is returned when any exists at or after the
   * offset, even if it exceeds `maxBytes` (Kafka's "always make progress" rule, KIP-74).
   */
  chunks: Buffer[];
  /** Sum of chunk lengths. */
  bytes: number;
  highWatermark: number;
  logStartOffset: number;
}

export interface TimeLookup {
  /** Offset of the first record whose timestamp is >= the requested time. */
  offset: number;
  timestamp: number;
}

/** One partition's log, opened through {@link StorageEngine.openPartition}. */
export interface PartitionLog {
  readonly id: PartitionId;
  /** Offset the next appended record will get. */
  highWatermark(): number;
  /** Lowest offset still readable. */
  logStartOffset(): number;
  /** Bytes currently held by this partition. */
  sizeBytes(): number;
  /**
   * Appends one or more concatenated RecordBatch v2 buffers, already validated by the caller
   * (see `validateBatches`). The engine rewrites base offsets in the given buffer, so callers must not reuse it
   * while the append runs. Resolves once the data is durable according to the engine's policy; from then on the
   * engine holds no reference to the buffer (it wrote or copied what it keeps), so the caller may fill it again.
   * After a rejection it may not: an append that timed out can still be committed later.
   */
  append(batches: Buffer): Promise<AppendResult>;
  /** Reads from `offset`; OFFSET_OUT_OF_RANGE below log start or above the high watermark. */
  read(offset: number, maxBytes: number): Promise<ReadResult>;
  /** First offset whose record timestamp >= `timestamp`, or undefined when none is. */
  offsetForTime(timestamp: number): Promise<TimeLookup | undefined>;
  /** Largest record timestamp in the log and its offset (Kafka ListOffsets MAX_TIMESTAMP), undefined when empty. */
  maxTimestamp(): Promise<TimeLookup | undefined>;
  /** Moves the log start offset forward (Kafka DeleteRecords). Returns the new log start offset. */
  deleteRecordsBefore(offset: number): Promise<number>;
  /** Applies time and size retention as of `nowMs`. Returns the new log start offset. */
  enforceRetention(nowMs: number): Promise<number>;
  /** Changes retention/flush settings of an open log. */
  updateConfig(config: LogConfig): void;
}

export interface StorageEngine {
  readonly kind: StorageKind;
  /** Opens (creating when missing) a partition log. Opening an open partition returns the same log. */
  openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog>;
  /** Removes a partition and all its data. Missing partitions are ignored. */
  dropPartition(id: PartitionId): Promise<void>;
  /** Makes every acknowledged append durable (no-op for memory). */
  flush(): Promise<void>;
  /** Flushes and releases resources; the engine is unusable afterwards. */
  close(): Promise<void>;
}
