/**
 * Turns buffered appends into one object: offsets assigned per partition from its committed end, batches grouped
 * per partition in call order, and the entry that will commit it.
 */
import type { AppendResult } from '../engine.js';
import { setBaseOffset, type BatchHeader } from '../record-batch.js';
import type { DecodedRange } from './format.js';
import type { S3PartitionLog } from './partition.js';

export interface PendingAppend {
  readonly part: S3PartitionLog;
  readonly data: Buffer;
  readonly headers: BatchHeader[];
  readonly deadline: number;
  readonly enqueuedAt: number;
  /** Set once resolved or rejected; later outcomes are ignored. */
  settled: boolean;
  /** Offsets assigned by the latest build. */
  baseOffset: number;
  lastOffset: number;
  readonly done: Promise<void>;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export interface BuiltRange extends DecodedRange {
  readonly part: S3PartitionLog;
  readonly data: Buffer;
}

export interface BuiltObject {
  readonly body: Buffer;
  readonly ranges: BuiltRange[];
}

/**
 * Assigns offsets and lays out the object. Offsets start at each partition's committed end, so building again
 * after a failed commit (with fewer appends, if some producers gave up) reuses them: no holes, no duplicates.
 */
export function buildObject(appends: PendingAppend[], epoch: number): BuiltObject {
  const groups = new Map<S3PartitionLog, PendingAppend[]>();
  for (const a of appends) {
    let list = groups.get(a.part);
    if (!list) groups.set(a.part, (list = []));
    list.push(a);
  }
  const ranges: BuiltRange[] = [];
  let position = 0;
  for (const [part, list] of groups) {
    const base = part.highWatermark();
    let next = base;
    let maxTimestamp = -1;
    for (const a of list) {
      a.baseOffset = next;
      for (const h of a.headers) {
        setBaseOffset(a.data, h.position, next);
        next += h.lastOffsetDelta + 1;
        if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
      }
      a.lastOffset = next - 1;
    }
    const data = list.length === 1 ? Buffer.from(list[0].data) : Buffer.concat(list.map((a) => a.data));
    ranges.push({
      part,
      data,
      topic: part.id.topic,
      partition: part.id.partition,
      incarnation: part.state.incarnation,
      baseOffset: base,
      lastOffset: next - 1,
      position,
      size: data.length,
      maxTimestamp,
      leaderEpoch: epoch,
    });
    position += data.length;
  }
  return { body: ranges.length === 1 ? ranges[0].data : Buffer.concat(ranges.map((r) => r.data)), ranges };
}

/**
 * The appends of the next object, in order: at most `maxBytes` (at least one append) and `maxPartitions`
 * partitions. An append is skipped only with every later append of its partition, so per-partition order holds.
 */
export function selectAppends(buffer: PendingAppend[], maxBytes: number, maxPartitions: number): { take: PendingAppend[]; keep: PendingAppend[] } {
  const take: PendingAppend[] = [];
  const keep: PendingAppend[] = [];
  const parts = new Set<S3PartitionLog>();
  let bytes = 0;
  let full = false;
  for (const a of buffer) {
    if (!full && take.length > 0 && bytes + a.data.length > maxBytes) full = true;
    if (full || (!parts.has(a.part) && parts.size >= maxPartitions)) {
      keep.push(a);
      continue;
    }
    parts.add(a.part);
    take.push(a);
    bytes += a.data.length;
  }
  return { take, keep };
}
