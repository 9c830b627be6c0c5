/** DeleteRecords (versions 0-2). Field layouts from Apache Kafka's DeleteRecordsRequest.json / DeleteRecordsResponse.json. */
import { array, field, int16, int32, int64, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      offset: field(int64, '0+'),
    })), '0+'),
  })), '0+'),
  timeoutMs: field(int32, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  topics: field(array(struct({
    name: field(string, '0+'),
    partitions: field(array(struct({
      partitionIndex: field(int32, '0+'),
      lowWatermark: field(int64, '0+'),
      errorCode: field(int16, '0+'),
    })), '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

