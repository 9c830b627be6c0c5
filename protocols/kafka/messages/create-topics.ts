/** CreateTopics (versions 0-7). Field layouts from Apache Kafka's CreateTopicsRequest.json / CreateTopicsResponse.json. */
import { array, bool, field, int16, int32, int8, string, struct, uuid, type Infer } from '../codec/schema.js';

export const Request = struct({
  topics: field(array(struct({
    name: field(string, '0+'),
    numPartitions: field(int32, '0+'),
    replicationFactor: field(int16, '0+'),
    assignments: field(array(struct({
      partitionIndex: field(int32, '0+'),
      brokerIds: field(array(int32), '0+'),
    })), '0+'),
    configs: field(array(struct({
      name: field(string, '0+'),
      value: field(string, '0+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
  timeoutMs: field(int32, '0+', { default: 60000 }),
  validateOnly: field(bool, '1+', { default: false }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '2+'),
  topics: field(array(struct({
    name: field(string, '0+'),
    topicId: field(uuid, '7+'),
    errorCode: field(int16, '0+'),
    errorMessage: field(string, '1+', { nullable: '0+' }),
    topicConfigErrorCode: field(int16, '5+', { tag: 0 }),
    numPartitions: field(int32, '5+', { default: -1 }),
    replicationFactor: field(int16, '5+', { default: -1 }),
    configs: field(array(struct({
      name: field(string, '5+'),
      value: field(string, '5+', { nullable: '5+' }),
      readOnly: field(bool, '5+'),
      configSource: field(int8, '5+', { default: -1 }),
      isSensitive: field(bool, '5+'),
    })), '5+', { nullable: '5+' }),
  })), '0+'),
});
export type Response = Infer<typeof Response>;

