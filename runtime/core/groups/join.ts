/**
 * JoinGroup on an existing group, as the classic protocol decides it: new dynamic members (with the KIP-394 member-id
 * round trip), returning static members (KIP-345) and known members rejoining in each group state.
 */
import { randomUUID } from 'node:crypto';
import type { ClassicGroup } from './group.js';
import type { GroupMember } from './member.js';
import { joinError, type RebalanceMachine } from './rebalance.js';
import type { JoinRequest, JoinResult } from './types.js';

export function handleJoin(machine: RebalanceMachine, group: ClassicGroup, req: JoinRequest): Promise<JoinResult> | JoinResult {
  if (group.is('Dead')) return joinError('COORDINATOR_NOT_AVAILABLE', req.memberId);
  if (!group.supportsProtocols(req.protocolType, req.protocols)) return joinError('INCONSISTENT_GROUP_PROTOCOL', req.memberId);
  return req.memberId === '' ? joinNew(machine, group, req) : joinKnown(machine, group, req);
}

function joinNew(machine: RebalanceMachine, group: ClassicGroup, req: JoinRequest): Promise<JoinResult> | JoinResult {
  const memberId = `${req.clientId}-${randomUUID()}`;
  if (req.groupInstanceId !== null) {
    const existing = group.staticMemberId(req.groupInstanceId);
    const member = existing === undefined ? undefined : group.members.get(existing);
    if (member) return rejoinStatic(machine, group, member, memberId, req);
    return machine.addMemberAndRebalance(group, memberId, req);
  }
  if (req.requireKnownMemberId) {
    // KIP-394: the id is only remembered for a session timeout; the client must come back with it to count.
    machine.addPendingMember(group, memberId, req.sessionTimeoutMs);
    return joinError('MEMBER_ID_REQUIRED', memberId);
  }
  return machine.addMemberAndRebalance(group, memberId, req);
}

function joinKnown(machine: RebalanceMachine, group: ClassicGroup, req: JoinRequest): Promise<JoinResult> | JoinResult {
  const pending = group.pendingMembers.get(req.memberId);
  if (pending !== undefined) {
    clearTimeout(pending);
    group.pendingMembers.delete(req.memberId);
    return machine.addMemberAndRebalance(group, req.memberId, req);
  }
  // KIP-345: an old incarnation of a static member is fenced once a new one took over its instance id.
  if (group.isFenced(req.memberId, req.groupInstanceId)) return joinError('FENCED_INSTANCE_ID', req.memberId);
  const member = group.members.get(req.memberId);
  if (!member) return joinError('UNKNOWN_MEMBER_ID', req.memberId);
  const reason = `member ${member.memberId} rejoined`;
  switch (group.state) {
    case 'PreparingRebalance':
      return machine.updateMemberAndRebalance(group, member, req, reason);
    case 'CompletingRebalance':
      // A retried JoinGroup of this generation: answer it again rather than start over.
      if (member.matches(req.protocols)) return answerAgain(machine, group, member);
      return machine.updateMemberAndRebalance(group, member, req, `member ${member.memberId} changed its protocols`);
    case 'Stable':
      // The leader rejoins to reassign (e.g. subscribed topics changed); a follower with the same protocols need not.
      if (member.memberId === group.leaderId || !member.matches(req.protocols)) {
        return machine.updateMemberAndRebalance(group, member, req, reason);
      }
      return answerAgain(machine, group, member);
    default:
      return joinError('UNKNOWN_MEMBER_ID', req.memberId);
  }
}

function answerAgain(machine: RebalanceMachine, group: ClassicGroup, member: GroupMember): JoinResult {
  machine.scheduleSession(group, member);
  return machine.currentJoinResult(group, member, member.memberId === group.leaderId);
}

/** KIP-345: a static member restarting gets a new member id and keeps its assignment, without a rebalance if it can. */
function rejoinStatic(
  machine: RebalanceMachine,
  group: ClassicGroup,
  member: GroupMember,
  newMemberId: string,
  req: JoinRequest,
): Promise<JoinResult> | JoinResult {
  const oldMemberId = member.memberId;
  member.answerJoin(joinError('FENCED_INSTANCE_ID', oldMemberId));
  member.answerSync({ error: 'FENCED_INSTANCE_ID', protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
  const unchanged = member.matches(req.protocols);
  group.replaceStaticMember(member, newMemberId);
  const reason = `static member ${req.groupInstanceId} rejoined as ${newMemberId}`;
  switch (group.state) {
    case 'PreparingRebalance':
      return machine.updateMemberAndRebalance(group, member, req, reason);
    case 'CompletingRebalance':
      // The leader may be assigning to the old member id; only a new generation gets the new id its assignment.
      return machine.updateMemberAndRebalance(group, member, req, reason);
    default: {
      if (!unchanged) return machine.updateMemberAndRebalance(group, member, req, `${reason} with new protocols`);
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      machine.scheduleSession(group, member);
      // KIP-814: the leader learns the members but keeps the current assignment.
      const isLeader = member.memberId === group.leaderId;
      return machine.currentJoinResult(group, member, isLeader, isLeader);
    }
  }
}
