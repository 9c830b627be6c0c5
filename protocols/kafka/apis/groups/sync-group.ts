/**
 * SyncGroup (key 14): the leader sends every member's assignment; followers wait for it. Errors as Kafka's:
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS (rejoin), FENCED_INSTANCE_ID.
 */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/sync-group.js';
import { groupsOf, kafkaCode, own } from './shared.js';

export const syncGroupApi = defineApi({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (!mayOnGroup(ctx, 'consume', req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    }
    const result = await groupsOf(ctx).sync({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      protocolType: req.protocolType,
      protocolName: req.protocolName,
      assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: own(a.assignment) })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaCode(result.error),
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
  errorResponse: (_req, error) => ({
    throttleTimeMs: 0,
    errorCode: error === ErrorCode.UNKNOWN_SERVER_ERROR ? ErrorCode.COORDINATOR_NOT_AVAILABLE : error,
    protocolType: null,
    protocolName: null,
    assignment: Buffer.alloc(0),
  }),
});
