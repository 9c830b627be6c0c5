/**
 * ListOffsets, DeleteRecords and OffsetForLeaderEpoch in a cluster: each partition is answered by its leader
 * (by-partition.ts), so offsets, deletions and epoch ends are those of the log the leader serves.
 */
import type { AnyKafkaApi } from '../apis/types.js';
import type { Request as DeleteRequest, Response as DeleteResponse } from '../messages/delete-records.js';
import type { Request, Response } from '../messages/list-offsets.js';
import type { Request as EpochRequest, Response as EpochResponse } from '../messages/offset-for-leader-epoch.js';
import { routedByPartition } from './by-partition.js';

const TIMEOUT_MS = 10_000;

type Query = Request['topics'][number]['partitions'][number];
type Offset = Response['topics'][number]['partitions'][number];

export function routedListOffsets(api: AnyKafkaApi): AnyKafkaApi {
  return routedByPartition<Request, Response, Query, Offset>(api, {
    action: 'consume',
    timeoutMs: () => TIMEOUT_MS,
    topics: (req) => req.topics.map((t) => ({ name: t.name, parts: t.partitions })),
    index: (p) => p.partitionIndex,
    narrow: (req, topics) => ({ ...req, topics: topics.map((t) => ({ name: t.name, partitions: t.parts })) }),
    answers: (res) => res.topics.flatMap((t) => t.partitions.map((answer) => ({ topic: t.name, answer }))),
    answerIndex: (a) => a.partitionIndex,
    failed: (p, errorCode) => ({ partitionIndex: p.partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 }),
    assemble: (req, answerOf) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => answerOf(t.name, p)) })),
    }),
  });
}

type Deletion = DeleteRequest['topics'][number]['partitions'][number];
type Deleted = DeleteResponse['topics'][number]['partitions'][number];

export function routedDeleteRecords(api: AnyKafkaApi): AnyKafkaApi {
  return routedByPartition<DeleteRequest, DeleteResponse, Deletion, Deleted>(api, {
    action: 'delete',
    timeoutMs: (req) => Math.max(0, req.timeoutMs),
    topics: (req) => req.topics.map((t) => ({ name: t.name, parts: t.partitions })),
    index: (p) => p.partitionIndex,
    narrow: (req, topics) => ({ ...req, topics: topics.map((t) => ({ name: t.name, partitions: t.parts })) }),
    answers: (res) => res.topics.flatMap((t) => t.partitions.map((answer) => ({ topic: t.name, answer }))),
    answerIndex: (a) => a.partitionIndex,
    failed: (p, errorCode) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode }),
    assemble: (req, answerOf) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => answerOf(t.name, p)) })),
    }),
  });
}

type EpochQuery = EpochRequest['topics'][number]['partitions'][number];
type EpochEnd = EpochResponse['topics'][number]['partitions'][number];

export function routedOffsetForLeaderEpoch(api: AnyKafkaApi): AnyKafkaApi {
  return routedByPartition<EpochRequest, EpochResponse, EpochQuery, EpochEnd>(api, {
    action: 'consume',
    timeoutMs: () => TIMEOUT_MS,
    topics: (req) => req.topics.map((t) => ({ name: t.topic, parts: t.partitions })),
    index: (p) => p.partition,
    narrow: (req, topics) => ({ ...req, topics: topics.map((t) => ({ topic: t.name, partitions: t.parts })) }),
    answers: (res) => res.topics.flatMap((t) => t.partitions.map((answer) => ({ topic: t.topic, answer }))),
    answerIndex: (a) => a.partition,
    failed: (p, errorCode) => ({ errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 }),
    assemble: (req, answerOf) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => answerOf(t.topic, p)) })),
    }),
  });
}
