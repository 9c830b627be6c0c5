/** OffsetCommit (key 8), versions 0-8. Layouts from Apache Kafka's OffsetCommitRequest/Response.json. */
import { array, field, int16, int32, int64, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupId: field(string, '0+'),
  generationIdOrMemberEpoch: field(int32, '1+', { default: -1 }),
  memberId: field(string, '1+'),
  groupInstanceId: field(string, '7+', { nullable: '7+' }),
  retentionTimeMs: field(int64, '2-4', { default: -1 }),
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      committedOffset: field(int64, '0+'),
      committedLeaderEpoch: field(int32, '6+', { default: -1 }),
      commitTimestamp: field(int64, '1', { default: -1 }),
      committedMetadata: field(string, '0+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '3+'),
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      errorCode: field(int16, '0+'),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
