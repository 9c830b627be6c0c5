/** DescribeGroups (key 15): state, protocol and members of each group; unknown groups are reported Dead. */
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/describe-groups.js';
import { groupsOf, kafkaCode } from './shared.js';

/** Kafka's "authorized operations not computed" sentinel (no ACLs here). */
const NO_OPERATIONS = -2147483648;

export const describeGroupsApi = defineApi({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleVersion: 5,
  request: Request,
  response: Response,
  handler: async (req, ctx) => ({
    throttleTimeMs: 0,
    groups: (await groupsOf(ctx).describeGroups(req.groups)).map((g) => ({
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
    })),
  }),
  errorResponse: (req) => ({
    throttleTimeMs: 0,
    groups: req.groups.map((groupId) => ({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: NO_OPERATIONS,
    })),
  }),
});
