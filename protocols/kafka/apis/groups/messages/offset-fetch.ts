/** OffsetFetch (key 9), versions 1-8. Layouts from Apache Kafka's OffsetFetchRequest/Response.json. */
import { array, bool, field, int16, int32, int64, string, struct, type Infer } from '../../../codec/schema.js';

const partitionsOf = (v: string) =>
  field(array(struct({
    partitionIndex: field(int32, v),
    committedOffset: field(int64, v),
    committedLeaderEpoch: field(int32, v === '8+' ? '8+' : '5-7', { default: -1 }),
    metadata: field(string, v, { nullable: v }),
    errorCode: field(int16, v),
  })), v);

export const Request = struct({
  groupId: field(string, '0-7'),
  topics: field(array(struct({
    name: field(string, '0-7'),
    partitionIndexes: field(array(int32), '0-7'),
  })), '0-7', { nullable: '2-7' }),
  groups: field(array(struct({
    groupId: field(string, '8+'),
    topics: field(array(struct({
      name: field(string, '8+'),
      partitionIndexes: field(array(int32), '8+'),
    })), '8+', { nullable: '8+' }),
  })), '8+'),
  requireStable: field(bool, '7+', { default: false }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '3+'),
  topics: field(array(struct({
    name: field(string, '0-7'),
    partitions: partitionsOf('0-7'),
  })), '0-7'),
  errorCode: field(int16, '2-7', { default: 0 }),
  groups: field(array(struct({
    groupId: field(string, '8+'),
    topics: field(array(struct({
      name: field(string, '8+'),
      partitions: partitionsOf('8+'),
    })), '8+'),
    errorCode: field(int16, '8+', { default: 0 }),
  })), '8+'),
});
export type Response = Infer<typeof Response>;
