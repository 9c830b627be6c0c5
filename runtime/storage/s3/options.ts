/** Options of the S3 engine, their defaults, and the S3 client built from them. */
import { S3Client } from '@aws-sdk/client-s3';
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';

const MiB = 1024 * 1024;

export interface S3EngineOptions {
  readonly bucket: string;
  /** Prefix of every object key and meta key. @default 'robustmq' */
  readonly prefix?: string;
  /** @default the AWS SDK region chain */
  readonly region?: string;
  /** S3-compatible endpoint (LocalStack, MinIO, s3rver). @default AWS S3 */
  readonly endpoint?: string;
  /** Path-style URLs, needed by most S3-compatible servers. @default false */
  readonly forcePathStyle?: boolean;
  /** Static credentials (tests). @default the AWS SDK default provider chain */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A client to use as is instead of building one; the engine does not destroy it. */
  readonly client?: S3Client;
  /** Holds the commit index, partition states and the broker's lease. Not closed by the engine. */
  readonly meta: MetaStore;
  readonly log?: Logger;
  /** Names this broker's lease; brokers sharing a prefix need distinct ids. @default 'standalone' */
  readonly brokerId?: string;
  /**
   * Other brokers write under the same bucket and prefix (a cluster). Then opening a partition that exists first
   * loads the objects committed since the last load, so a partition handed over from another broker (fenced by
   * whoever moved it) comes with everything its old leader committed. Off: this engine is the only writer, and
   * the index loaded at start stays complete. @default false
   */
  readonly shared?: boolean;
  /** An append waits at most this long for its object to be written. @default 250 */
  readonly flushMs?: number;
  /** Buffered bytes that start a flush at once; also the largest object a flush writes. @default 8 MiB */
  readonly flushBytes?: number;
  /** Appends beyond this many buffered bytes are refused (STORAGE_UNAVAILABLE). @default 4 × flushBytes */
  readonly maxBufferedBytes?: number;
  /** Partitions in one object, which bounds the size of its meta entry. @default 2000 */
  readonly maxPartitionsPerObject?: number;
  /** Memory bound of the read cache. @default 256 MiB */
  readonly cacheBytes?: number;
  /** Bytes a sequential consumer's next ranges are fetched ahead. @default 4 MiB */
  readonly readAheadBytes?: number;
  /** An append not committed by then fails with a retriable STORAGE_UNAVAILABLE. @default 10000 */
  readonly appendTimeoutMs?: number;
  /** A read (with its retries) fails after this long. @default 10000 */
  readonly readTimeoutMs?: number;
  /** Timeout of one S3 request attempt, plus 1 ms per KiB it carries. @default 3000 */
  readonly requestTimeoutMs?: number;
  /** Interval of compaction and garbage collection; 0 disables the timer. @default 30000 */
  readonly maintenanceIntervalMs?: number;
  /** Objects below this size are merged by compaction; 0 disables compaction. @default 4 MiB */
  readonly compactSmallBytes?: number;
  /** Largest object compaction writes. @default 32 MiB */
  readonly compactTargetBytes?: number;
  /** Objects merged per compaction round. @default 50 */
  readonly compactMaxObjects?: number;
  /** Interval of the orphan sweep (a LIST of the bucket prefix). @default 600000 */
  readonly orphanSweepMs?: number;
  /** Objects without an entry are deleted once older than this. @default 600000 */
  readonly orphanGraceMs?: number;
  /** Delay between dropping an object's entry and deleting its bytes. @default 30000 */
  readonly deleteDelayMs?: number;
}

export type ResolvedS3Options = Required<Omit<S3EngineOptions, 'region' | 'endpoint' | 'credentials' | 'client' | 'log'>> &
  Pick<S3EngineOptions, 'region' | 'endpoint' | 'credentials' | 'client' | 'log'>;

export function resolveOptions(o: S3EngineOptions): ResolvedS3Options {
  if (!o.bucket) throw new RobustMQError('INVALID_ARGUMENT', 'the s3 storage engine needs a bucket (--s3-bucket)');
  const flushBytes = o.flushBytes ?? 8 * MiB;
  return {
    ...o,
    prefix: (o.prefix ?? 'robustmq').replace(/\/+$/, ''),
    forcePathStyle: o.forcePathStyle ?? false,
    brokerId: o.brokerId ?? 'standalone',
    shared: o.shared ?? false,
    flushMs: o.flushMs ?? 250,
    flushBytes,
    maxBufferedBytes: o.maxBufferedBytes ?? 4 * flushBytes,
    maxPartitionsPerObject: o.maxPartitionsPerObject ?? 2000,
    cacheBytes: o.cacheBytes ?? 256 * MiB,
    readAheadBytes: o.readAheadBytes ?? 4 * MiB,
    appendTimeoutMs: o.appendTimeoutMs ?? 10_000,
    readTimeoutMs: o.readTimeoutMs ?? 10_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 3000,
    maintenanceIntervalMs: o.maintenanceIntervalMs ?? 30_000,
    compactSmallBytes: o.compactSmallBytes ?? 4 * MiB,
    compactTargetBytes: o.compactTargetBytes ?? 32 * MiB,
    compactMaxObjects: o.compactMaxObjects ?? 50,
    orphanSweepMs: o.orphanSweepMs ?? 600_000,
    orphanGraceMs: o.orphanGraceMs ?? 600_000,
    deleteDelayMs: o.deleteDelayMs ?? 30_000,
  };
}

/**
 * The engine's S3 client. The SDK's own retries are off (maxAttempts 1): the engine retries itself, because it
 * must respect each append's deadline and rebuild objects between attempts.
 */
export function buildClient(o: ResolvedS3Options): S3Client {
  return new S3Client({
    region: o.region,
    endpoint: o.endpoint,
    forcePathStyle: o.forcePathStyle,
    credentials: o.credentials,
    maxAttempts: 1,
    // Each attempt is bounded by an AbortSignal (object-store.ts); this bounds the TCP connect alone.
    requestHandler: { connectionTimeout: o.requestTimeoutMs },
  });
}
