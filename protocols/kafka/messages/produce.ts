/** Produce (versions 0-9). Field layouts from Apache Kafka's ProduceRequest.json / ProduceResponse.json. */
import { array, field, int16, int32, int64, records, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  transactionalId: field(string, '3+', { nullable: '3+' }),
  acks: field(int16, '0+'),
  timeoutMs: field(int32, '0+'),
  topicData: field(array(struct({
    name: field(string, '0+'),
    partitionData: field(array(struct({
      index: field(int32, '0+'),
      records: field(records, '0+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  responses: field(array(struct({
    name: field(string, '0+'),
    partitionResponses: field(array(struct({
      index: field(int32, '0+'),
      errorCode: field(int16, '0+'),
      baseOffset: field(int64, '0+'),
      logAppendTimeMs: field(int64, '2+', { default: -1 }),
      logStartOffset: field(int64, '5+', { default: -1 }),
      recordErrors: field(array(struct({
        batchIndex: field(int32, '8+'),
        batchIndexErrorMessage: field(string, '8+', { nullable: '8+' }),
      })), '8+'),
      errorMessage: field(string, '8+', { nullable: '8+' }),
    })), '0+'),
  })), '0+'),
  throttleTimeMs: field(int32, '1+'),
});
export type Response = Infer<typeof Response>;

