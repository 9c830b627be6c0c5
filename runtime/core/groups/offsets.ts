/**
 * Committed group offsets, kept in the MetaStore namespace 'group-offsets' (one entry per group, topic and partition)
 * so they outlive the broker that accepted them. Group membership is not stored: only offsets are durable, as in
 * Kafka where a restarted coordinator reloads offsets and members simply rejoin.
 */
import { groupOffsetKey, type GroupOffsetRecord } from '../../meta/records.js';
import type { MetaStore, TransactOp } from '../../meta/store.js';
import type { CommitOffset, CommitResult, FetchedOffset } from './types.js';

/** Kafka's offset.metadata.max.bytes default. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
/** DynamoDB accepts at most 100 items per transaction; larger commits are written in chunks of this size. */
const MAX_OPS_PER_TRANSACTION = 100;

export interface TopicPartitions {
  topic: string;
  /** Null: every partition of the topic with a committed offset. */
  partitions: number[] | null;
}

export class OffsetStore {
  constructor(private readonly meta: MetaStore) {}

  /** Writes the valid offsets; per-partition outcomes in request order. Storage failures reject. */
  async commit(groupId: string, offsets: CommitOffset[], nowMs = Date.now()): Promise<CommitResult[]> {
    const results: CommitResult[] = [];
    // A partition named twice is written once, with its last offset (a transaction may name an entry only once).
    const writes = new Map<string, TransactOp>();
    for (const o of offsets) {
      if (o.metadata !== null && Buffer.byteLength(o.metadata) > MAX_OFFSET_METADATA_BYTES) {
        results.push({ topic: o.topic, partition: o.partition, error: 'OFFSET_METADATA_TOO_LARGE' });
        continue;
      }
      const record: GroupOffsetRecord = {
        group: groupId,
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        commitTimestamp: nowMs,
      };
      const key = groupOffsetKey(groupId, o.topic, o.partition);
      writes.delete(key);
      writes.set(key, { op: 'put', ns: 'group-offsets', key, value: record });
      results.push({ topic: o.topic, partition: o.partition });
    }
    const ops = [...writes.values()];
    for (let i = 0; i < ops.length; i += MAX_OPS_PER_TRANSACTION) {
      await this.meta.transact(ops.slice(i, i + MAX_OPS_PER_TRANSACTION));
    }
    return results;
  }

  /** Committed offsets; `topics` null means every partition the group committed (OffsetFetch v2+). */
  async fetch(groupId: string, topics: TopicPartitions[] | null): Promise<FetchedOffset[]> {
    if (topics === null) return (await this.records(groupId)).map(toFetched);
    const out: FetchedOffset[] = [];
    for (const { topic, partitions } of topics) {
      const committed = await this.records(groupId, topic);
      if (partitions === null) {
        out.push(...committed.map(toFetched));
        continue;
      }
      const byPartition = new Map(committed.map((r) => [r.partition, r]));
      for (const partition of partitions) {
        const r = byPartition.get(partition);
        out.push(r ? toFetched(r) : { topic, partition, offset: -1, leaderEpoch: -1, metadata: '' });
      }
    }
    return out;
  }

  async hasOffsets(groupId: string): Promise<boolean> {
    return (await this.meta.list('group-offsets', `${groupId}\u0000`)).length > 0;
  }

  /** Every group id that has at least one committed offset. */
  async groupIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const e of await this.meta.list<GroupOffsetRecord>('group-offsets')) ids.add(e.value.group);
    return ids;
  }

  /** Removes every committed offset of the group; resolves with how many there were. */
  async deleteGroup(groupId: string): Promise<number> {
    const entries = await this.meta.list('group-offsets', `${groupId}\u0000`);
    const ops: TransactOp[] = entries.map((e) => ({ op: 'delete', ns: 'group-offsets', key: e.key }));
    for (let i = 0; i < ops.length; i += MAX_OPS_PER_TRANSACTION) {
      await this.meta.transact(ops.slice(i, i + MAX_OPS_PER_TRANSACTION));
    }
    return entries.length;
  }

  private async records(groupId: string, topic?: string): Promise<GroupOffsetRecord[]> {
    const prefix = topic === undefined ? `${groupId}\u0000` : `${groupId}\u0000${topic}\u0000`;
    const entries = await this.meta.list<GroupOffsetRecord>('group-offsets', prefix);
    return entries
      .map((e) => e.value)
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }
}

function toFetched(r: GroupOffsetRecord): FetchedOffset {
  return { topic: r.topic, partition: r.partition, offset: r.offset, leaderEpoch: r.leaderEpoch, metadata: r.metadata };
}
