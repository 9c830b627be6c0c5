/** DeleteTopics (versions 0-6). Field layouts from Apache Kafka's DeleteTopicsRequest.json / DeleteTopicsResponse.json. */
import { array, field, int16, int32, string, struct, uuid, type Infer } from '../codec/schema.js';

export const Request = struct({
  topics: field(array(struct({
    name: field(string, '6+', { nullable: '6+' }),
    topicId: field(uuid, '6+'),
  })), '6+'),
  topicNames: field(array(string), '0-5'),
  timeoutMs: field(int32, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  responses: field(array(struct({
    name: field(string, '0+', { nullable: '6+' }),
    topicId: field(uuid, '6+'),
    errorCode: field(int16, '0+'),
    errorMessage: field(string, '5+', { nullable: '5+' }),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

