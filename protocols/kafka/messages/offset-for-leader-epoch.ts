/** OffsetForLeaderEpoch (versions 0-4). Field layouts from Apache Kafka's OffsetForLeaderEpochRequest.json / OffsetForLeaderEpochResponse.json. */
import { array, field, int16, int32, int64, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  replicaId: field(int32, '3+', { default: -2 }),
  topics: field(array(struct({
    topic: field(string, '0+'),
    partitions: field(array(struct({
      partition: field(int32, '0+'),
      currentLeaderEpoch: field(int32, '2+', { default: -1 }),
      leaderEpoch: field(int32, '0+'),
    })), '0+'),
  })), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '2+'),
  topics: field(array(struct({
    topic: field(string, '0+'),
    partitions: field(array(struct({
      errorCode: field(int16, '0+'),
      partition: field(int32, '0+'),
      leaderEpoch: field(int32, '1+', { default: -1 }),
      endOffset: field(int64, '0+', { default: -1 }),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

