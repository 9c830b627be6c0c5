/** ListGroups (key 16), versions 0-5. Layouts from Apache Kafka's ListGroupsRequest/Response.json. */
import { array, field, int16, int32, string, struct, type Infer } from '../../../codec/schema.js';

export const Request = struct({
  statesFilter: field(array(string), '4+'),
  typesFilter: field(array(string), '5+'),
});
export type Request = Infer<typeof Request>;

export const Response = struct({
  throttleTimeMs: field(int32, '1+'),
  errorCode: field(int16, '0+'),
  groups: field(array(struct({
    groupId: field(string, '0+'),
    protocolType: field(string, '0+'),
    groupState: field(string, '4+'),
    groupType: field(string, '5+'),
  })), '0+'),
});
export type Response = Infer<typeof Response>;
