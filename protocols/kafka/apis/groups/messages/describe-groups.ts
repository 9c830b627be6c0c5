/** DescribeGroups (key 15), versions 0-5. Layouts from Apache Kafka's DescribeGroupsRequest/Response.json. */
import { array, bool, bytes, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groups: field(array(string), '0+'),
  includeAuthorizedOperations: field(bool, '3+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  groups: field(array(struct({
    errorCode: field(int16, '0+'),
    groupId: field(string, '0+'),
    groupState: field(string, '0+'),
    protocolType: field(string, '0+'),
    protocolData: field(string, '0+'),
    members: field(array(struct({
      memberId: field(string, '0+'),
      groupInstanceId: field(string, '4+', { nullable: '4+' }),
      clientId: field(string, '0+'),
      clientHost: field(string, '0+'),
      memberMetadata: field(bytes, '0+'),
      memberAssignment: field(bytes, '0+'),
    })), '0+'),
    authorizedOperations: field(int32, '3+', { default: -2147483648 }),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
