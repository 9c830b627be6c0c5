/**
 * The rebalance state machine of classic groups and its timers: Empty → PreparingRebalance (join phase) →
 * CompletingRebalance (waiting for the leader's SyncGroup) → Stable, and back to PreparingRebalance whenever a member
 * joins, changes its protocols, leaves or stops heartbeating. Every timer is unref'd and cleared by close().
 */
import type { Logger } from '../../logger.js';
import type { ClassicGroup } from './group.js';
import { EMPTY, GroupMember } from './member.js';
import type { GroupErrorCode, JoinRequest, JoinResult } from './types.js';

export interface RebalanceTimings {
  /** group.initial.rebalance.delay.ms: how long the first join of an empty group waits for more members. */
  initialRebalanceDelayMs: number;
}

export function joinError(error: GroupErrorCode, memberId: string): JoinResult {
  return { error, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, members: [], skipAssignment: false };
}

export class RebalanceMachine {
  constructor(
    private readonly timings: RebalanceTimings,
    private readonly log: Logger | undefined,
  ) {}

  /** Adds a member parked in JoinGroup and (re)starts the join phase. */
  addMemberAndRebalance(group: ClassicGroup, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const member = new GroupMember(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.protocolType,
      req.protocols,
      req.sessionTimeoutMs,
      req.rebalanceTimeoutMs,
    );
    member.isNew = true;
    const joined = this.park(member);
    group.add(member);
    if (group.is('PreparingRebalance') && group.initialJoin) group.newMemberAdded = true;
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
    return joined;
  }

  /** A known member rejoins with (possibly new) protocols: park it and make sure a join phase runs. */
  updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, req: JoinRequest, reason: string): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    const joined = this.park(member);
    this.maybePrepareRebalance(group, reason);
    return joined;
  }

  /** Parks a JoinGroup; a duplicate from the same member (a client retry) supersedes the earlier one. */
  park(member: GroupMember): Promise<JoinResult> {
    member.answerJoin(joinError('REBALANCE_IN_PROGRESS', member.memberId));
    return new Promise((resolve) => {
      member.awaitingJoin = resolve;
    });
  }

  maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('Stable', 'CompletingRebalance', 'Empty')) this.prepareRebalance(group, reason);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance')) {
      // The assignment being computed is for a generation that will not be; followers parked in SyncGroup rejoin.
      for (const m of group.members.values()) {
        m.assignment = EMPTY;
        m.answerSync({ error: 'REBALANCE_IN_PROGRESS', protocolType: null, protocolName: null, assignment: EMPTY });
      }
    }
    const wasEmpty = group.is('Empty');
    group.state = 'PreparingRebalance';
    group.pendingSync.clear();
    this.clearJoinTimer(group);
    this.log?.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    const rebalanceTimeoutMs = group.rebalanceTimeoutMs();
    if (wasEmpty && this.timings.initialRebalanceDelayMs > 0) {
      // KIP-134: give the other members of a starting application a moment to arrive before the first generation.
      group.initialJoin = true;
      group.newMemberAdded = false;
      const delay = Math.min(this.timings.initialRebalanceDelayMs, rebalanceTimeoutMs);
      this.scheduleInitialJoin(group, delay, Math.max(rebalanceTimeoutMs - delay, 0));
      return;
    }
    group.initialJoin = false;
    group.joinTimer = setTimeout(() => this.completeJoin(group), rebalanceTimeoutMs).unref();
    this.tryCompleteJoin(group);
  }

  tryCompleteJoin(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && !group.initialJoin && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** Ends the join phase: drops members that did not rejoin, opens the next generation and answers every join. */
  completeJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    this.clearJoinTimer(group);
    group.initialJoin = false;
    for (const m of [...group.members.values()]) {
      if (!m.awaitingJoin) {
        this.log?.info({ group: group.groupId, member: m.memberId }, 'member did not rejoin in time; removing it');
        this.dropMember(group, m, 'UNKNOWN_MEMBER_ID');
      }
    }
    group.generationId += 1;
    group.protocolName = group.members.size > 0 ? group.selectProtocol() : null;
    if (group.members.size === 0) {
      group.state = 'Empty';
      return;
    }
    if (group.protocolName === null) {
      for (const m of [...group.members.values()]) this.dropMember(group, m, 'INCONSISTENT_GROUP_PROTOCOL');
      group.state = 'Empty';
      return;
    }
    group.state = 'CompletingRebalance';
    this.log?.info(
      { group: group.groupId, generation: group.generationId, members: group.members.size, protocol: group.protocolName },
      'group join phase complete',
    );
    for (const m of group.members.values()) {
      group.pendingSync.add(m.memberId);
      m.answerJoin(this.currentJoinResult(group, m, m.memberId === group.leaderId));
      this.scheduleSession(group, m);
    }
    // Members that never send SyncGroup would stall the group; the rebalance timeout bounds this phase too.
    const generation = group.generationId;
    group.joinTimer = setTimeout(() => this.expirePendingSync(group, generation), group.rebalanceTimeoutMs()).unref();
  }

  currentJoinResult(group: ClassicGroup, member: GroupMember, withMembers: boolean, skipAssignment = false): JoinResult {
    return {
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      memberId: member.memberId,
      members: withMembers ? group.joinedMembers() : [],
      skipAssignment,
    };
  }

  /** The leader's SyncGroup: store each member's assignment and release the parked followers. */
  completeSync(group: ClassicGroup, assignments: Map<string, Buffer>): void {
    if (group.pendingSync.size === 0) this.clearJoinTimer(group);
    group.state = 'Stable';
    for (const m of group.members.values()) {
      m.assignment = assignments.get(m.memberId) ?? EMPTY;
      m.answerSync({ protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment });
      this.scheduleSession(group, m);
    }
    this.log?.info({ group: group.groupId, generation: group.generationId }, 'group stable');
  }

  /** The member sent this generation's SyncGroup; once all have, the sync deadline is moot. */
  markSynced(group: ClassicGroup, memberId: string): void {
    if (group.pendingSync.delete(memberId) && group.pendingSync.size === 0) this.clearJoinTimer(group);
  }

  /** Removes a member (left, expired, fenced out) and rebalances the rest. */
  removeMemberAndRebalance(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.dropMember(group, member, 'UNKNOWN_MEMBER_ID');
    if (group.is('Stable', 'CompletingRebalance')) this.prepareRebalance(group, reason);
    else this.tryCompleteJoin(group);
  }

  /** (Re)arms the member's session timer: without a heartbeat, join or sync before it fires, the member is gone. */
  scheduleSession(group: ClassicGroup, member: GroupMember, timeoutMs = member.sessionTimeoutMs): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = undefined;
      if (group.members.get(member.memberId) !== member) return;
      if (member.keepsAlive) {
        this.scheduleSession(group, member);
        return;
      }
      this.log?.info({ group: group.groupId, member: member.memberId }, 'member session expired');
      this.removeMemberAndRebalance(group, member, `member ${member.memberId} session expired`);
    }, timeoutMs).unref();
  }

  /** KIP-394: an id handed out with MEMBER_ID_REQUIRED is forgotten if the client does not come back with it. */
  addPendingMember(group: ClassicGroup, memberId: string, sessionTimeoutMs: number): void {
    const timer = setTimeout(() => {
      group.pendingMembers.delete(memberId);
      this.tryCompleteJoin(group);
    }, sessionTimeoutMs).unref();
    group.pendingMembers.set(memberId, timer);
  }

  /** Stops every timer of the group and answers its parked requests (coordinator shutdown or group deletion). */
  shutdown(group: ClassicGroup, error: GroupErrorCode): void {
    this.clearJoinTimer(group);
    for (const timer of group.pendingMembers.values()) clearTimeout(timer);
    group.pendingMembers.clear();
    for (const m of group.members.values()) {
      if (m.sessionTimer) clearTimeout(m.sessionTimer);
      m.sessionTimer = undefined;
      m.answerJoin(joinError(error, m.memberId));
      m.answerSync({ error, protocolType: null, protocolName: null, assignment: EMPTY });
    }
  }

  private dropMember(group: ClassicGroup, member: GroupMember, error: GroupErrorCode): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    member.answerJoin(joinError(error, member.memberId));
    member.answerSync({ error, protocolType: null, protocolName: null, assignment: EMPTY });
    group.remove(member.memberId);
  }

  private scheduleInitialJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    group.joinTimer = setTimeout(() => {
      group.joinTimer = undefined;
      if (group.newMemberAdded && remainingMs > 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.timings.initialRebalanceDelayMs, remainingMs);
        this.scheduleInitialJoin(group, delay, remainingMs - delay);
        return;
      }
      this.completeJoin(group);
    }, delayMs).unref();
  }

  private expirePendingSync(group: ClassicGroup, generation: number): void {
    group.joinTimer = undefined;
    if (group.generationId !== generation || !group.is('CompletingRebalance', 'Stable') || group.pendingSync.size === 0) {
      return;
    }
    const late = [...group.pendingSync];
    this.log?.info({ group: group.groupId, members: late }, 'members did not sync in time; removing them');
    for (const id of late) {
      const m = group.members.get(id);
      if (m) this.dropMember(group, m, 'REBALANCE_IN_PROGRESS');
    }
    this.prepareRebalance(group, 'members did not send SyncGroup in time');
  }

  private clearJoinTimer(group: ClassicGroup): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
  }
}
