/** FindCoordinator (key 10), versions 0-4. Layouts from Apache Kafka's FindCoordinatorRequest/Response.json. */
import { array, field, int16, int32, int8, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  key: field(string, '0-3'),
  keyType: field(int8, '1+'),
  coordinatorKeys: field(array(string), '4+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '0-3'),
  errorMessage: field(string, '1-3', { nullable: '1-3' }),
  nodeId: field(int32, '0-3'),
  host: field(string, '0-3'),
  port: field(int32, '0-3'),
  coordinators: field(array(struct({
    key: field(string, '4+'),
    nodeId: field(int32, '4+'),
    host: field(string, '4+'),
    port: field(int32, '4+'),
    errorCode: field(int16, '4+'),
    errorMessage: field(string, '4+', { nullable: '4+' }),
  })), '4+'),
});
export type Response = Infer<typeof Response>;
