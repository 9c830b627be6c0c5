/** InitProducerId (versions 0-4). Field layouts from Apache Kafka's InitProducerIdRequest.json / InitProducerIdResponse.json. */
import { field, int16, int32, int64, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  transactionalId: field(string, '0+', { nullable: '0+' }),
  transactionTimeoutMs: field(int32, '0+'),
  producerId: field(int64, '3+', { default: -1 }),
  producerEpoch: field(int16, '3+', { default: -1 }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  errorCode: field(int16, '0+'),
  producerId: field(int64, '0+', { default: -1 }),
  producerEpoch: field(int16, '0+'),
});
export type Response = Infer<typeof Response>;

