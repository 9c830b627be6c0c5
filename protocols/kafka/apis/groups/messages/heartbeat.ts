/** Heartbeat (key 12), versions 0-4. Layouts from Apache Kafka's HeartbeatRequest/Response.json. */
import { field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupId: field(string, '0+'),
  generationId: field(int32, '0+'),
  memberId: field(string, '0+'),
  groupInstanceId: field(string, '3+', { nullable: '3+' }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '0+'),
});
export type Response = Infer<typeof Response>;
