/**
 * IncrementalAlterConfigs (key 44, versions 0-1; flexible from 1, KIP-339). Field layouts from Apache Kafka's
 * IncrementalAlterConfigsRequest.json.
 */
import { array, bool, field, int16, int32, int8, string, struct, type Infer } from '../codec/schema.js';

export const Request = struct({
  resources: field(array(struct({
    resourceType: field(int8, '0+'),
    resourceName: field(string, '0+'),
    configs: field(array(struct({
      name: field(string, '0+'),
      /** 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT. */
      configOperation: field(int8, '0+'),
      value: field(string, '0+', { nullable: '0+' }),
    })), '0+'),
  })), '0+'),
  validateOnly: field(bool, '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  responses: field(array(struct({
    errorCode: field(int16, '0+'),
    errorMessage: field(string, '0+', { nullable: '0+' }),
    resourceType: field(int8, '0+'),
    resourceName: field(string, '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
