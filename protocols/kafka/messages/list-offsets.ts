/** ListOffsets (versions 0-7). Field layouts from Apache Kafka's ListOffsetsRequest.json / ListOffsetsResponse.json. */
import { array, field, int16, int32, int64, int8, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  replicaId: field(int32, '0+'),
  isolationLevel: field(int8, '2+'),
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      currentLeaderEpoch: field(int32, '4+', { default: -1 }),
      timestamp: field(int64, '0+'),
      maxNumOffsets: field(int32, '0', { default: 1 }),
    })), '0+'),
  })), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '2+'),
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      errorCode: field(int16, '0+'),
      oldStyleOffsets: field(array(int64), '0'),
      timestamp: field(int64, '1+', { default: -1 }),
      offset: field(int64, '1+', { default: -1 }),
      leaderEpoch: field(int32, '4+', { default: -1 }),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

