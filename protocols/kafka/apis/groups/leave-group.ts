/**
 * LeaveGroup (key 13): members leaving trigger a rebalance of the rest. v0-2 name one member; v3+ (KIP-345) a
 * batch, static members possibly by group.instance.id alone, each with its own error.
 */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/leave-group.js';
import { groupsOf, kafkaCode } from './shared.js';

export const leaveGroupApi = defineApi({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: (req, ctx) => {
    if (!mayOnGroup(ctx, 'consume', req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const batch = ctx.apiVersion >= 3;
    const leaving = batch
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    const result = groupsOf(ctx).leave(req.groupId, leaving);
    const members = result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: kafkaCode(m.error) }));
    // Before v3 the single member's outcome is the response's error.
    const errorCode = result.error !== undefined || batch ? kafkaCode(result.error) : (members[0]?.errorCode ?? 0);
    return { throttleTimeMs: 0, errorCode, members };
  },
});
