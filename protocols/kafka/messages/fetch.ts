/** Fetch (versions 0-12). Field layouts from Apache Kafka's FetchRequest.json / FetchResponse.json. */
import { array, field, int16, int32, int64, int8, records, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  clusterId: field(string, '12+', { nullable: '12+', tag: 0 }),
  replicaId: field(int32, '0-14', { default: -1 }),
  maxWaitMs: field(int32, '0+'),
  minBytes: field(int32, '0+'),
  maxBytes: field(int32, '3+', { default: 2147483647 }),
  isolationLevel: field(int8, '4+'),
  sessionId: field(int32, '7+'),
  sessionEpoch: field(int32, '7+', { default: -1 }),
  topics: field(array(struct({
    topic: field(string, '0-12'),
    partitions: field(array(struct({
      partition: field(int32, '0+'),
      currentLeaderEpoch: field(int32, '9+', { default: -1 }),
      fetchOffset: field(int64, '0+'),
      lastFetchedEpoch: field(int32, '12+', { default: -1 }),
      logStartOffset: field(int64, '5+', { default: -1 }),
      partitionMaxBytes: field(int32, '0+'),
    })), '0+'),
  })), '0+'),
  forgottenTopicsData: field(array(struct({
    topic: field(string, '7-12'),
    partitions: field(array(int32), '7+'),
  })), '7+'),
  rackId: field(string, '11+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '7+'),
  sessionId: field(int32, '7+'),
  responses: field(array(struct({
    topic: field(string, '0-12'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      errorCode: field(int16, '0+'),
      highWatermark: field(int64, '0+'),
      lastStableOffset: field(int64, '4+', { default: -1 }),
      logStartOffset: field(int64, '5+', { default: -1 }),
      divergingEpoch: field(struct({
        epoch: field(int32, '12+', { default: -1 }),
        endOffset: field(int64, '12+', { default: -1 }),
      }), '12+', { tag: 0 }),
      currentLeader: field(struct({
        leaderId: field(int32, '12+', { default: -1 }),
        leaderEpoch: field(int32, '12+', { default: -1 }),
      }), '12+', { tag: 1 }),
      snapshotId: field(struct({
        endOffset: field(int64, '0+', { default: -1 }),
        epoch: field(int32, '0+', { default: -1 }),
      }), '12+', { tag: 2 }),
      abortedTransactions: field(array(struct({
        producerId: field(int64, '4+'),
        firstOffset: field(int64, '4+'),
      })), '4+', { nullable: '4+' }),
      preferredReadReplica: field(int32, '11+', { default: -1 }),
      records: field(records, '0+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

