/** SyncGroup (key 14), versions 0-5. Layouts from Apache Kafka's SyncGroupRequest/Response.json. */
import { array, bytes, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupId: field(string, '0+'),
  generationId: field(int32, '0+'),
  memberId: field(string, '0+'),
  groupInstanceId: field(string, '3+', { nullable: '3+' }),
  protocolType: field(string, '5+', { nullable: '5+' }),
  protocolName: field(string, '5+', { nullable: '5+' }),
  assignments: field(array(struct({
    memberId: field(string, '0+'),
    assignment: field(bytes, '0+'),
  })), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '0+'),
  protocolType: field(string, '5+', { nullable: '5+' }),
  protocolName: field(string, '5+', { nullable: '5+' }),
  assignment: field(bytes, '0+'),
});
export type Response = Infer<typeof Response>;
