/** JoinGroup (key 11), versions 0-9. Layouts from Apache Kafka's JoinGroupRequest/Response.json. */
import { array, bool, bytes, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupId: field(string, '0+'),
  sessionTimeoutMs: field(int32, '0+'),
  rebalanceTimeoutMs: field(int32, '1+', { default: -1 }),
  memberId: field(string, '0+'),
  groupInstanceId: field(string, '5+', { nullable: '5+' }),
  protocolType: field(string, '0+'),
  protocols: field(array(struct({
    name: field(string, '0+'),
    metadata: field(bytes, '0+'),
  })), '0+'),
  reason: field(string, '8+', { nullable: '8+' }),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '2+'),
  errorCode: field(int16, '0+'),
  generationId: field(int32, '0+', { default: -1 }),
  protocolType: field(string, '7+', { nullable: '7+' }),
  protocolName: field(string, '0+', { nullable: '7+' }),
  leader: field(string, '0+'),
  skipAssignment: field(bool, '9+', { default: false }),
  memberId: field(string, '0+'),
  members: field(array(struct({
    memberId: field(string, '0+'),
    groupInstanceId: field(string, '5+', { nullable: '5+' }),
    metadata: field(bytes, '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
