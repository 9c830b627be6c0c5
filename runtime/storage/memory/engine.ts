import { RobustMQError } from '../../errors.js';
import type { LogConfig, PartitionId, PartitionLog, StorageEngine } from '../engine.js';
import { BufferPool } from '../../buffer-pool.js';
import { MemoryPartitionLog, SLAB_BYTES } from './partition.js';

/**
 * Partition logs held in process memory: the fastest engine and the one for tests, caches and data that may be lost.
 *
 * Durability: none. An append resolves as soon as the batch is stored in this process's heap; nothing survives a
 * restart or a crash of the process, and `flush` has nothing to do. The `flush` policy of a log config is ignored.
 *
 * Memory: each batch is held as a private copy, in slabs shared by consecutive batches (1 MiB once a partition is
 * busy; a batch over 256 KiB gets a buffer of its own). Retention, DeleteRecords and `dropPartition` free what they
 * drop; a full slab whose batches are all gone is reused by the next appends of any partition (at most
 * POOL_SLABS kept) unless a read handed it out. Retention works on whole batches: a batch goes once its maxTimestamp
 * is older than `retentionMs`, and the oldest batches go while the partition holds more than `retentionBytes` — at
 * the periodic check, and already on append once it is over by more than a slab (or 1/64 of the limit).
 */
const POOL_SLABS = 16;

export class MemoryStorageEngine implements StorageEngine {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, MemoryPartitionLog>();
  private readonly slabs = new BufferPool(POOL_SLABS * SLAB_BYTES);
  private closed = false;

  async openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog> {
    this.assertOpen();
    const key = keyOf(id);
    let log = this.logs.get(key);
    if (!log) {
      log = new MemoryPartitionLog({ topic: id.topic, partition: id.partition }, config, this.slabs);
      this.logs.set(key, log);
    }
    return log;
  }

  async dropPartition(id: PartitionId): Promise<void> {
    this.assertOpen();
    const key = keyOf(id);
    const log = this.logs.get(key);
    if (!log) return;
    this.logs.delete(key);
    log.release('was dropped');
  }

  /** Full-size slabs allocated and reused, and bytes the pool holds for reuse. */
  stats(): { slabsAllocated: number; slabsReused: number; poolBytes: number } {
    return { slabsAllocated: this.slabs.allocated, slabsReused: this.slabs.reused, poolBytes: this.slabs.held };
  }

  async flush(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const log of this.logs.values()) log.release('belongs to a closed storage engine');
    this.logs.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new RobustMQError('CLOSED', 'the memory storage engine is closed');
  }
}

function keyOf(id: PartitionId): string {
  return `${id.topic}\u0000${id.partition}`;
}
