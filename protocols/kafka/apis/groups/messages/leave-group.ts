/** LeaveGroup (key 13), versions 0-5. Layouts from Apache Kafka's LeaveGroupRequest/Response.json. */
import { array, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupId: field(string, '0+'),
  memberId: field(string, '0-2'),
  members: field(array(struct({
    memberId: field(string, '3+'),
    groupInstanceId: field(string, '3+', { nullable: '3+' }),
    reason: field(string, '5+', { nullable: '5+' }),
  })), '3+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '0+'),
  members: field(array(struct({
    memberId: field(string, '3+'),
    groupInstanceId: field(string, '3+', { nullable: '3+' }),
    errorCode: field(int16, '3+'),
  })), '3+'),
});
export type Response = Infer<typeof Response>;
