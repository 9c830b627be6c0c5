/**
 * JoinGroup (key 11): parks the request until the group's join phase completes, then answers with the generation,
 * the chosen protocol and — to the leader only — every member's metadata. v4+ dynamic members first get
 * MEMBER_ID_REQUIRED with their id (KIP-394); v5+ carry group.instance.id (KIP-345).
 */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/join-group.js';
import { clientHostOf, groupsOf, kafkaCode, own } from './shared.js';

export const joinGroupApi = defineApi({
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleVersion: 6,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (!mayOnGroup(ctx, 'consume', req.groupId)) return failed(req.memberId, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const result = await groupsOf(ctx).join({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: ctx.clientId ?? '',
      clientHost: clientHostOf(ctx),
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: ctx.apiVersion >= 1 ? req.rebalanceTimeoutMs : -1,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: own(p.metadata) })),
      requireKnownMemberId: ctx.apiVersion >= 4,
    });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaCode(result.error),
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      leader: result.leaderId,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members,
    };
  },
  errorResponse: (req, error) =>
    failed(req.memberId, error === ErrorCode.UNKNOWN_SERVER_ERROR ? ErrorCode.COORDINATOR_NOT_AVAILABLE : error),
});

function failed(memberId: string, errorCode: number) {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}
