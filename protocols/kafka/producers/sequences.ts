/**
 * Per-partition sequence state of idempotent producers (KIP-98), so that a retried batch is not stored twice and a
 * lost batch is noticed:
 *  - a batch equal (same epoch, first and last sequence) to one of the producer's last five is a duplicate and is
 *    answered with the offset it got the first time;
 *  - otherwise its first sequence must follow the last one (wrapping after 2^31-1), else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *  - a newer epoch must start at sequence 0; an older epoch is fenced (INVALID_PRODUCER_EPOCH);
 *  - a producer with no known state (new, or its batches were deleted by retention) may start at any sequence.
 * State is rebuilt on first use of a partition by scanning the tail of its log, so it survives a restart for
 * engines that persist data.
 */
import type { TopicManager } from '../../../runtime/core/topics.js';
import { batchHeaders, type BatchHeader } from '../../../runtime/storage/record-batch.js';
import { ErrorCode } from '../errors.js';

/** Batches remembered per producer for duplicate detection (Kafka's max.in.flight limit for idempotence). */
const CACHED_BATCHES = 5;
/** How far back (in offsets) the log is scanned to rebuild state. */
const SCAN_OFFSETS = 100_000;
const SCAN_READ_BYTES = 4 * 1024 * 1024;
const INT32_MAX = 2147483647;

interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMeta[];
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'error'; code: ErrorCode; message: string };

function lastSeqOf(h: BatchHeader): number {
  return (h.baseSequence + h.lastOffsetDelta) % (INT32_MAX + 1);
}

export class PartitionProducers {
  private readonly producers = new Map<number, ProducerEntry>();

  check(h: BatchHeader): SequenceCheck {
    const entry = this.producers.get(h.producerId);
    if (!entry) return { kind: 'append' };
    if (h.producerEpoch < entry.epoch) {
      const message = `producer epoch ${h.producerEpoch} is older than ${entry.epoch}`;
      return { kind: 'error', code: ErrorCode.INVALID_PRODUCER_EPOCH, message };
    }
    if (h.producerEpoch > entry.epoch) {
      if (h.baseSequence === 0) return { kind: 'append' };
      const message = `new epoch ${h.producerEpoch} must start at sequence 0`;
      return { kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message };
    }
    const last = lastSeqOf(h);
    const dup = entry.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === last);
    if (dup) return { kind: 'duplicate', baseOffset: dup.baseOffset };
    const prev = entry.batches[entry.batches.length - 1];
    if (!prev) return { kind: 'append' };
    const expected = prev.lastSeq === INT32_MAX ? 0 : prev.lastSeq + 1;
    if (h.baseSequence !== expected) {
      return {
        kind: 'error',
        code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `sequence ${h.baseSequence} received, ${expected} expected for producer ${h.producerId}`,
      };
    }
    return { kind: 'append' };
  }

  /** Records a stored batch (its header read after the append, so baseOffset is the assigned one). */
  record(h: BatchHeader): void {
    if (h.producerId < 0) return;
    let entry = this.producers.get(h.producerId);
    if (!entry || h.producerEpoch > entry.epoch) {
      entry = { epoch: h.producerEpoch, batches: [] };
      this.producers.set(h.producerId, entry);
    } else if (h.producerEpoch < entry.epoch) {
      return;
    }
    entry.batches.push({ firstSeq: h.baseSequence, lastSeq: lastSeqOf(h), baseOffset: h.baseOffset });
    if (entry.batches.length > CACHED_BATCHES) entry.batches.shift();
  }
}

/** Node-wide table of PartitionProducers, each loaded lazily and used under a per-partition lock. */
export class ProducerStates {
  private readonly partitions = new Map<string, Promise<PartitionProducers>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly topics: TopicManager) {
    topics.on('deleted', (name) => {
      for (const key of this.partitions.keys()) if (key.startsWith(`${name}\u0000`)) this.partitions.delete(key);
    });
    // Cluster: another broker may have appended while this one did not lead; rebuild from the log when needed.
    topics.on('leadership', ({ topic, partition }) => this.partitions.delete(`${topic}\u0000${partition}`));
  }

  /** Runs `fn` with the partition's producer state, one call at a time per partition. */
  async withPartition<T>(topic: string, partition: number, fn: (state: PartitionProducers) => Promise<T>): Promise<T> {
    const key = `${topic}\u0000${partition}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => fn(await this.load(key, topic, partition)));
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }

  private load(key: string, topic: string, partition: number): Promise<PartitionProducers> {
    let loaded = this.partitions.get(key);
    if (!loaded) {
      loaded = this.scan(topic, partition);
      this.partitions.set(key, loaded);
      loaded.catch(() => this.partitions.delete(key));
    }
    return loaded;
  }

  private async scan(topic: string, partition: number): Promise<PartitionProducers> {
    const state = new PartitionProducers();
    const log = this.topics.partition(topic, partition);
    const end = log.highWatermark();
    let offset = Math.max(log.logStartOffset(), end - SCAN_OFFSETS);
    while (offset < end) {
      const read = await log.read(offset, SCAN_READ_BYTES);
      let next = offset;
      for (const chunk of read.chunks) {
        for (const h of batchHeaders(chunk)) {
          if (h.baseOffset + h.lastOffsetDelta < offset) continue;
          state.record(h);
          next = Math.max(next, h.baseOffset + h.lastOffsetDelta + 1);
        }
      }
      if (next === offset) break;
      offset = next;
    }
    return state;
  }
}
