import { RobustMQError } from '../../errors.js';
import type { LogConfig, PartitionId, PartitionLog, StorageEngine } from '../engine.js';
import { MemoryPartitionLog } from './partition.js';

/**
 * Partition logs held in process memory: the fastest engine and the one for tests, caches and data that may be lost.
 *
 * Durability: none. An append resolves as soon as the batch is stored in this process's heap; nothing survives a
 * restart or a crash of the process, and `flush` has nothing to do. The `flush` policy of a log config is ignored.
 *
 * Memory: each batch is held as its own exact-size copy, so retention, DeleteRecords and `dropPartition` free the
 * bytes of the batches they drop. Retention works on whole batches: a batch goes once its maxTimestamp is older than
 * `retentionMs`, and the oldest batches go while the partition holds more than `retentionBytes`.
 */
export class MemoryStorageEngine implements StorageEngine {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, MemoryPartitionLog>();
  private closed = false;

  async openPartition(id: PartitionId, config: LogConfig): Promise<PartitionLog> {
    this.assertOpen();
    const key = keyOf(id);
    let log = this.logs.get(key);
    if (!log) {
      log = new MemoryPartitionLog({ topic: id.topic, partition: id.partition }, config);
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
