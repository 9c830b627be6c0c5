/**
 * The segmented local-disk engine: each partition is a directory `<dataDir>/<topic>-<partition>/` of segments
 * (RecordBatch v2 log + sparse offset index + time index, named by base offset) rolled by size and age, with a
 * small checkpoint file holding the log start offset.
 *
 * Durability, per partition from `LogConfig.flush`, else the engine's `flush` default:
 *
 * - `always` — an append resolves only after its bytes were written and fdatasync'd (new segment files also get
 *   their directory synced). Survives a process crash, an OS crash and power loss. Appends that arrive while a
 *   sync runs share the next one (group commit), so throughput grows with the number of concurrent producers.
 * - `interval:MS` — an append resolves once written to the OS; the partition is fdatasync'd at most MS after its
 *   first unsynced write (and when a segment is rolled). Survives a process crash; an OS crash or power loss loses
 *   at most about the last MS of acknowledged appends.
 * - `os` — an append resolves once written to the OS, which writes it back in its own time. Survives a process
 *   crash; an OS crash or power loss may lose any acknowledged data not yet written back (sealed segments are not
 *   synced at roll in this mode, only by `flush()` and `close()`).
 *
 * Under every policy readers see only acknowledged appends, recovery never exposes a partial batch (the active
 * segment's torn or corrupt tail is truncated on open), and `flush()`/`close()` fdatasync everything.
 *
 * Resources: descriptors are pooled (`maxOpenFiles`, LRU, default 1,000) across all partitions; loaded indexes
 * share a byte budget (`indexCacheBytes`, default 64 MiB); reads, scans and recovery go through bounded buffers,
 * never a whole segment.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { topicNameError } from '../../core/topic-names.js';
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { FlushPolicy, LogConfig, PartitionId, PartitionLog, StorageEngine } from '../engine.js';
import { FilePool } from './file-pool.js';
import { fsyncDir, isNotFound } from './files.js';
import { IndexCache } from './index-cache.js';
import type { EngineContext } from './log-state.js';
import { SegmentPartitionLog } from './partition-log.js';

export interface SegmentEngineOptions {
  /** Directory holding one subdirectory per partition (the node passes `<data-dir>/logs`). */
  dataDir: string;
  /** Default durability policy of partitions whose LogConfig names none. */
  flush: FlushPolicy;
  /** A segment rolls before it would exceed this many bytes. @default 134217728 (128 MiB) */
  segmentBytes?: number;
  /** A non-empty segment rolls once it is this old. @default 604800000 (7 days) */
  segmentMs?: number;
  /** Bytes of log between two sparse index entries. @default 4096 */
  indexIntervalBytes?: number;
  /** Descriptors kept open across all partitions. @default 1000 */
  maxOpenFiles?: number;
  /** Memory for loaded index files across all partitions. @default 67108864 (64 MiB) */
  indexCacheBytes?: number;
  log?: Logger;
}

export interface SegmentEngineStats {
  partitions: number;
  openFiles: number;
  indexCacheBytes: number;
  /** Bytes scanned by recovery since the engine started (active segments not closed cleanly). */
  recoveryScannedBytes: number;
  recoveryTruncatedBytes: number;
  /** Log fdatasyncs issued (one per group commit under flush always). */
  syncs: number;
}

export class SegmentStorageEngine implements StorageEngine {
  readonly kind = 'segment' as const;
  private readonly ctx: EngineContext;
  private readonly logs = new Map<string, Promise<SegmentPartitionLog>>();
  private readonly counters = { recoveryScannedBytes: 0, recoveryTruncatedBytes: 0, syncs: 0 };
  private closed = false;

  constructor(private readonly options: SegmentEngineOptions) {
    const segmentBytes = options.segmentBytes ?? 128 * 1024 * 1024;
    if (!Number.isInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > 0x7fff_ffff) {
      throw new RobustMQError('INVALID_ARGUMENT', `segmentBytes must be an integer from 1 to 2147483647, got ${segmentBytes}`);
    }
    const segmentMs = options.segmentMs ?? 7 * 24 * 3600 * 1000;
    const indexIntervalBytes = options.indexIntervalBytes ?? 4096;
    for (const [name, v] of [['segmentMs', segmentMs], ['indexIntervalBytes', indexIntervalBytes]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RobustMQError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${v}`);
    }
    this.ctx = {
      pool: new FilePool(options.maxOpenFiles ?? 1000),
      cache: new IndexCache(options.indexCacheBytes ?? 64 * 1024 * 1024),
      indexIntervalBytes,
      segmentBytes,
      segmentMs,
      defaultFlush: options.flush,
      log: options.log ?? pino({ level: 'silent' }),
      counters: this.counters,
    };
  }

  async openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog> {
    this.assertOpen();
    const key = dirName(id);
    let pending = this.logs.get(key);
    if (!pending) {
      pending = SegmentPartitionLog.open(id, join(this.options.dataDir, key), config, this.ctx).then(({ log, stats }) => {
        this.counters.recoveryScannedBytes += stats.scannedBytes;
        this.counters.recoveryTruncatedBytes += stats.truncatedBytes;
        return log;
      });
      this.logs.set(key, pending);
      pending.catch(() => {
        if (this.logs.get(key) === pending) this.logs.delete(key);
      });
    }
    return pending;
  }

  async dropPartition(id: PartitionId): Promise<void> {
    this.assertOpen();
    const key = dirName(id);
    const pending = this.logs.get(key);
    this.logs.delete(key);
    if (pending) await (await pending.catch(() => undefined))?.abandon();
    const dir = join(this.options.dataDir, key);
    await rm(dir, { recursive: true, force: true });
    // Make the removal durable: a partition reappearing after a power loss would resurface under a new topic.
    await fsyncDir(this.options.dataDir).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await Promise.all([...this.logs.values()].map(async (p) => (await p).flush()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const logs = [...this.logs.values()];
    this.logs.clear();
    const results = await Promise.allSettled(logs.map(async (p) => (await p).close()));
    this.ctx.pool.closeAll();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new RobustMQError('STORAGE_UNAVAILABLE', 'could not close every partition cleanly', { cause: failed.reason });
  }

  stats(): SegmentEngineStats {
    return {
      partitions: this.logs.size,
      openFiles: this.ctx.pool.openCount,
      indexCacheBytes: this.ctx.cache.usedBytes,
      ...this.counters,
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new RobustMQError('CLOSED', 'the segment storage engine is closed');
  }
}

/** Kafka's `<topic>-<partition>` directory name; the topic rules keep it inside the data directory. */
function dirName(id: PartitionId): string {
  const problem = topicNameError(id.topic);
  if (problem) throw new RobustMQError('INVALID_ARGUMENT', problem);
  if (!Number.isInteger(id.partition) || id.partition < 0) {
    throw new RobustMQError('INVALID_ARGUMENT', `partition must be a non-negative integer, got ${id.partition}`);
  }
  return `${id.topic}-${id.partition}`;
}
