/**
 * What the S3 engine keeps in the MetaStore.
 *
 * An object is a concatenation of stored RecordBatch v2 bytes grouped per partition: the ranges of one partition
 * are contiguous and in offset order, and the ranges follow each other in the order the entry lists them. Its
 * 's3-objects' entry is the only thing that makes it visible; an object without one was never committed and is
 * garbage. The entry is written in one conditional write per flush, and DynamoDB bills that write by the KB, so a
 * range is seven small numbers: topic names are listed once, byte positions follow from the sizes, the leader epoch
 * is the entry's, timestamps are relative to its `createdAt`. A range costs ~30 bytes of JSON: a flush touching
 * 1,000 partitions makes a ~30 KB entry (DynamoDB allows 400 KB; `maxPartitionsPerObject` keeps flushes below).
 */
import { RobustMQError } from '../../errors.js';

/** [topic index, partition, incarnation, base offset, record count, byte size, max timestamp - createdAt] */
export type RangeTuple = [number, number, number, number, number, number, number];

export interface ObjectItem {
  v: 2;
  /** Epoch ms the object was written (compacted objects: when compaction wrote them). */
  createdAt: number;
  /** Broker (lease holder) that committed it. */
  writer: string;
  /** Leader epoch (lease version) of the writer. */
  epoch: number;
  /** Total bytes of the object. */
  size: number;
  topics: string[];
  ranges: RangeTuple[];
}

/**
 * Written in place of an ObjectItem when a commit's outcome was unknown (a timeout): once it exists, the lost
 * commit can never apply later, because it required the key to be absent. Garbage-collected with its object.
 */
export interface AbortMarker {
  v: 2;
  aborted: true;
  createdAt: number;
}

export type ObjectEntryValue = ObjectItem | AbortMarker;

/**
 * 's3-partitions' value: which incarnation of the partition is live, and its log start. Dropping a partition
 * leaves a tombstone (`dropped`) so that the next partition of that name gets the next incarnation number and
 * ranges of the old one are never taken for the new one's; tombstones are a few bytes each and are kept.
 */
export interface PartitionStateItem {
  topic: string;
  partition: number;
  incarnation: number;
  logStartOffset: number;
  dropped?: true;
}

/** 's3-leases' value: the broker's fencing token. The entry's version is the leader epoch of its commits. */
export interface LeaseItem {
  brokerId: string;
  /** Random id of the process holding it. */
  holder: string;
  acquiredAt: number;
}

export interface DecodedRange {
  topic: string;
  partition: number;
  incarnation: number;
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
  maxTimestamp: number;
  leaderEpoch: number;
}

export function isAbortMarker(value: ObjectEntryValue): value is AbortMarker {
  return (value as AbortMarker).aborted === true;
}

/** The ranges of an item with their partition and position spelled out; CORRUPT_RECORD when malformed. */
export function decodeRanges(item: ObjectItem): DecodedRange[] {
  if (item.v !== 2 || !Array.isArray(item.topics) || !Array.isArray(item.ranges)) {
    throw new RobustMQError('CORRUPT_RECORD', 'S3 object entry has an unknown layout');
  }
  let position = 0;
  return item.ranges.map((r) => {
    const topic = item.topics[r[0]];
    if (typeof topic !== 'string' || r.length !== 7 || r.some((n) => !Number.isSafeInteger(n)) || r[4] < 1 || r[5] < 1) {
      throw new RobustMQError('CORRUPT_RECORD', 'S3 object entry holds a malformed range');
    }
    const range: DecodedRange = {
      topic,
      partition: r[1],
      incarnation: r[2],
      baseOffset: r[3],
      lastOffset: r[3] + r[4] - 1,
      position,
      size: r[5],
      maxTimestamp: item.createdAt + r[6],
      leaderEpoch: item.epoch,
    };
    position += r[5];
    return range;
  });
}

/** Builds an item from ranges laid out back to back in the given order (topics are listed once). */
export function encodeItem(ranges: DecodedRange[], meta: { createdAt: number; writer: string; epoch: number }): ObjectItem {
  const topics: string[] = [];
  const index = new Map<string, number>();
  let position = 0;
  const tuples = ranges.map((r): RangeTuple => {
    if (r.position !== position) throw new RobustMQError('INTERNAL', `range of ${r.topic}-${r.partition} is not where the layout puts it`);
    position += r.size;
    let t = index.get(r.topic);
    if (t === undefined) {
      t = topics.push(r.topic) - 1;
      index.set(r.topic, t);
    }
    return [t, r.partition, r.incarnation, r.baseOffset, r.lastOffset - r.baseOffset + 1, r.size, r.maxTimestamp - meta.createdAt];
  });
  return { v: 2, createdAt: meta.createdAt, writer: meta.writer, epoch: meta.epoch, size: position, topics, ranges: tuples };
}
