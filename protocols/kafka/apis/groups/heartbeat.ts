/** Heartbeat (key 12): keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/heartbeat.js';
import { groupsOf, kafkaCode } from './shared.js';

export const heartbeatApi = defineApi({
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    errorCode: !mayOnGroup(ctx, 'consume', req.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : kafkaCode(
      groupsOf(ctx).heartbeat({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: req.groupInstanceId,
      }),
    ),
  }),
});
