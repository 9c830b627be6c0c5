/**
 * DeleteGroups (key 42), versions 0-2, flexible from 2. Layout of Apache Kafka's DeleteGroupsRequest/Response.json
 * (not among the copied definitions): request GroupsNames []string; response ThrottleTimeMs, Results
 * [{GroupId, ErrorCode}].
 */
import { array, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  groupsNames: field(array(string), '0+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '0+'),
  results: field(array(struct({
    groupId: field(string, '0+'),
    errorCode: field(int16, '0+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
