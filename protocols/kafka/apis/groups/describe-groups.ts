/**
 * DescribeGroups (key 15): state, protocol and members of each group; unknown groups are reported Dead. Groups the
 * principal may not consume from get GROUP_AUTHORIZATION_FAILED.
 */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/describe-groups.js';
import { groupsOf, kafkaCode } from './shared.js';

/** Kafka's "authorized operations not computed" sentinel. */
const NO_OPERATIONS = -2147483648;

type Described = Response['groups'][number];

function empty(groupId: string, errorCode: number): Described {
  return { errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: NO_OPERATIONS };
}

export const describeGroupsApi = defineApi({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleVersion: 5,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const allowed = req.groups.filter((g) => mayOnGroup(ctx, 'consume', g));
    const described = new Map((await groupsOf(ctx).describeGroups(allowed)).map((g) => [g.groupId, g]));
    const groups = req.groups.map((id): Described => {
      const g = described.get(id);
      if (!g) return empty(id, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      return {
        errorCode: kafkaCode(g.error),
        groupId: g.groupId,
        groupState: g.state,
        protocolType: g.protocolType,
        protocolData: g.protocolName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
        authorizedOperations: NO_OPERATIONS,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
  errorResponse: (req) => ({ throttleTimeMs: 0, groups: req.groups.map((id) => empty(id, ErrorCode.COORDINATOR_NOT_AVAILABLE)) }),
});
