/** CreatePartitions (versions 0-3). Field layouts from Apache Kafka's CreatePartitionsRequest.json / CreatePartitionsResponse.json. */
import { array, bool, field, int16, int32, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  topics: field(array(struct({
    name: field(string, '0+'),
    count: field(int32, '0+'),
    assignments: field(array(struct({
      brokerIds: field(array(int32), '0+'),
    })), '0+', { nullable: '0+' }),
  })), '0+'),
  timeoutMs: field(int32, '0+'),
  validateOnly: field(bool, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  results: field(array(struct({
    name: field(string, '0+'),
    errorCode: field(int16, '0+'),
    errorMessage: field(string, '0+', { nullable: '0+' }),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

