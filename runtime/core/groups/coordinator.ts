/**
 * The group coordinator of this node: the classic consumer-group protocol (JoinGroup / SyncGroup / Heartbeat /
 * LeaveGroup) with its offsets, independent of any wire format. Membership lives in memory; committed offsets live in
 * the MetaStore (offsets.ts), so a restarted node knows every group that committed and its members simply rejoin.
 */
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import { describeGroup, listingOf, offsetsOnlyDescription } from './describe.js';
import { ClassicGroup } from './group.js';
import { handleJoin } from './join.js';
import { EMPTY } from './member.js';
import { OffsetStore, type TopicPartitions } from './offsets.js';
import { joinError, RebalanceMachine } from './rebalance.js';
import type {
  CommitResult,
  FetchedOffset,
  GroupDescription,
  GroupErrorCode,
  GroupListing,
  HeartbeatRequest,
  JoinRequest,
  JoinResult,
  LeaveResult,
  LeavingMember,
  OffsetCommitRequest,
  SyncRequest,
  SyncResult,
} from './types.js';

export interface GroupCoordinatorOptions {
  /** group.initial.rebalance.delay.ms. @default 3000 */
  initialRebalanceDelayMs?: number;
  /** group.min.session.timeout.ms. @default 6000 */
  minSessionTimeoutMs?: number;
  /** group.max.session.timeout.ms. @default 1800000 */
  maxSessionTimeoutMs?: number;
  log?: Logger;
}

export class GroupCoordinator {
  readonly offsets: OffsetStore;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly machine: RebalanceMachine;
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private closed = false;

  constructor(meta: MetaStore, options: GroupCoordinatorOptions = {}) {
    this.offsets = new OffsetStore(meta);
    this.machine = new RebalanceMachine({ initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 3000 }, options.log);
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? 6000;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 1_800_000;
  }

  /** Resolves when the join phase completes (or at once with an error / MEMBER_ID_REQUIRED). */
  async join(req: JoinRequest): Promise<JoinResult> {
    const invalid = this.closed ? 'COORDINATOR_NOT_AVAILABLE' : groupIdError(req.groupId);
    if (invalid) return joinError(invalid, req.memberId);
    if (req.sessionTimeoutMs < this.minSessionTimeoutMs || req.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return joinError('INVALID_SESSION_TIMEOUT', req.memberId);
    }
    // JoinGroup v0 has no rebalance timeout: the session timeout doubles as one.
    const request = req.rebalanceTimeoutMs > 0 ? req : { ...req, rebalanceTimeoutMs: req.sessionTimeoutMs };
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.memberId !== '') return joinError('UNKNOWN_MEMBER_ID', req.memberId);
      group = new ClassicGroup(req.groupId);
      this.groups.set(req.groupId, group);
    }
    return handleJoin(this.machine, group, request);
  }

  async sync(req: SyncRequest): Promise<SyncResult> {
    const error = this.checkMember(req.groupId, req.memberId, req.groupInstanceId, req.generationId);
    if (error) return syncError(error);
    const group = this.groups.get(req.groupId)!;
    const member = group.members.get(req.memberId)!;
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    ) {
      return syncError('INCONSISTENT_GROUP_PROTOCOL');
    }
    if (group.is('PreparingRebalance')) return syncError('REBALANCE_IN_PROGRESS');
    this.machine.markSynced(group, member.memberId);
    if (group.is('Stable')) {
      this.machine.scheduleSession(group, member);
      return { protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
    }
    // CompletingRebalance: followers wait for the leader's assignment; the leader's SyncGroup releases everyone.
    member.answerSync(syncError('REBALANCE_IN_PROGRESS'));
    const synced = new Promise<SyncResult>((resolve) => {
      member.awaitingSync = resolve;
    });
    if (member.memberId === group.leaderId) {
      this.machine.completeSync(group, new Map(req.assignments.map((a) => [a.memberId, a.assignment])));
    }
    return synced;
  }

  heartbeat(req: HeartbeatRequest): GroupErrorCode | undefined {
    const error = this.checkMember(req.groupId, req.memberId, req.groupInstanceId, req.generationId);
    if (error) return error;
    const group = this.groups.get(req.groupId)!;
    this.machine.scheduleSession(group, group.members.get(req.memberId)!);
    // The member learns of a rebalance from its heartbeat and rejoins within the rebalance timeout.
    return group.is('PreparingRebalance') ? 'REBALANCE_IN_PROGRESS' : undefined;
  }

  /** LeaveGroup; v3+ (KIP-345) names several members, static ones possibly by instance id only. */
  leave(groupId: string, members: LeavingMember[]): LeaveResult {
    const invalid = this.closed ? 'COORDINATOR_NOT_AVAILABLE' : groupIdError(groupId);
    if (invalid) return { error: invalid, members: [] };
    const group = this.groups.get(groupId);
    if (group?.is('Dead')) return { error: 'COORDINATOR_NOT_AVAILABLE', members: [] };
    const results = members.map((m) => ({ ...m, ...this.leaveOne(group, m) }));
    return { members: results };
  }

  /** Commits offsets after checking the committer's membership; `generationId` -1 commits outside group management. */
  async commitOffsets(req: OffsetCommitRequest): Promise<CommitResult[]> {
    const error = this.checkCommit(req);
    const all = (e: GroupErrorCode): CommitResult[] => req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, error: e }));
    if (error) return all(error);
    return this.offsets.commit(req.groupId, req.offsets);
  }

  async fetchOffsets(groupId: string, topics: TopicPartitions[] | null): Promise<{ error?: GroupErrorCode; offsets: FetchedOffset[] }> {
    const invalid = this.closed ? 'COORDINATOR_NOT_AVAILABLE' : groupIdError(groupId, true);
    if (invalid) return { error: invalid, offsets: [] };
    return { offsets: await this.offsets.fetch(groupId, topics) };
  }

  /** Groups in memory plus groups known only by their committed offsets (Empty); `states` filters, case-insensitive. */
  async listGroups(states: string[] = []): Promise<GroupListing[]> {
    const listed = new Map<string, GroupListing>();
    for (const g of this.groups.values()) if (!g.is('Dead')) listed.set(g.groupId, listingOf(g));
    for (const id of await this.offsets.groupIds()) {
      if (!listed.has(id) && !this.groups.get(id)?.is('Dead')) listed.set(id, { groupId: id, protocolType: '', state: 'Empty' });
    }
    const wanted = new Set(states.map((s) => s.toLowerCase()));
    return [...listed.values()].filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()));
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const id of groupIds) {
      const group = this.groups.get(id);
      if (group) out.push(describeGroup(group));
      else out.push(offsetsOnlyDescription(id, await this.offsets.hasOffsets(id)));
    }
    return out;
  }

  /** Deletes empty groups and their offsets; NON_EMPTY_GROUP while members remain. */
  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; error?: GroupErrorCode }>> {
    const out: Array<{ groupId: string; error?: GroupErrorCode }> = [];
    for (const groupId of groupIds) out.push({ groupId, ...(await this.deleteGroup(groupId)) });
    return out;
  }

  /** Stops every timer and answers parked joins and syncs; the node is going down. */
  async close(): Promise<void> {
    this.closed = true;
    for (const group of this.groups.values()) this.machine.shutdown(group, 'COORDINATOR_NOT_AVAILABLE');
    this.groups.clear();
  }

  private async deleteGroup(groupId: string): Promise<{ error?: GroupErrorCode }> {
    const invalid = this.closed ? 'COORDINATOR_NOT_AVAILABLE' : groupIdError(groupId);
    if (invalid) return { error: invalid };
    const group = this.groups.get(groupId);
    if (group?.is('Dead')) return { error: 'GROUP_ID_NOT_FOUND' };
    if (group && (group.members.size > 0 || group.pendingMembers.size > 0 || !group.is('Empty'))) return { error: 'NON_EMPTY_GROUP' };
    const tombstone = group ?? new ClassicGroup(groupId);
    tombstone.state = 'Dead';
    this.groups.set(groupId, tombstone);
    try {
      const deleted = await this.offsets.deleteGroup(groupId);
      return group || deleted > 0 ? {} : { error: 'GROUP_ID_NOT_FOUND' };
    } finally {
      if (this.groups.get(groupId) === tombstone) this.groups.delete(groupId);
    }
  }

  private leaveOne(group: ClassicGroup | undefined, m: LeavingMember): { error?: GroupErrorCode } {
    if (!group) return { error: 'UNKNOWN_MEMBER_ID' };
    const memberId = m.memberId === '' && m.groupInstanceId !== null ? group.staticMemberId(m.groupInstanceId) : m.memberId;
    if (memberId === undefined) return { error: 'UNKNOWN_MEMBER_ID' };
    if (group.isFenced(memberId, m.groupInstanceId)) return { error: 'FENCED_INSTANCE_ID' };
    const pending = group.pendingMembers.get(memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      group.pendingMembers.delete(memberId);
      this.machine.tryCompleteJoin(group);
      return {};
    }
    const member = group.members.get(memberId);
    if (!member) return { error: 'UNKNOWN_MEMBER_ID' };
    this.machine.removeMemberAndRebalance(group, member, `member ${memberId} left the group`);
    return {};
  }

  /** The membership checks SyncGroup and Heartbeat share, in Kafka's order. */
  private checkMember(groupId: string, memberId: string, instanceId: string | null, generationId: number): GroupErrorCode | undefined {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    const invalid = groupIdError(groupId);
    if (invalid) return invalid;
    const group = this.groups.get(groupId);
    if (!group) return 'UNKNOWN_MEMBER_ID';
    if (group.is('Dead')) return 'COORDINATOR_NOT_AVAILABLE';
    if (group.isFenced(memberId, instanceId)) return 'FENCED_INSTANCE_ID';
    if (!group.has(memberId)) return 'UNKNOWN_MEMBER_ID';
    if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    return undefined;
  }

  private checkCommit(req: OffsetCommitRequest): GroupErrorCode | undefined {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    const invalid = groupIdError(req.groupId, true);
    if (invalid) return invalid;
    let group = this.groups.get(req.groupId);
    if (!group) {
      // No such group: a commit outside group management creates it; a member of a lost generation is told so.
      if (req.generationId >= 0) return 'ILLEGAL_GENERATION';
      group = new ClassicGroup(req.groupId);
      this.groups.set(req.groupId, group);
    }
    if (group.is('Dead')) return 'COORDINATOR_NOT_AVAILABLE';
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      if (group.isFenced(req.memberId, req.groupInstanceId)) return 'FENCED_INSTANCE_ID';
      if (!group.has(req.memberId)) return 'UNKNOWN_MEMBER_ID';
      if (req.generationId !== group.generationId) return 'ILLEGAL_GENERATION';
      this.machine.scheduleSession(group, group.members.get(req.memberId)!);
    } else if (!group.is('Empty')) {
      // Only members may commit for a group that has members.
      return 'UNKNOWN_MEMBER_ID';
    }
    // The member has its new generation from JoinGroup but no assignment yet: it should not be committing.
    if (group.is('CompletingRebalance')) return 'REBALANCE_IN_PROGRESS';
    return undefined;
  }
}

function syncError(error: GroupErrorCode): SyncResult {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Group ids are non-empty (OffsetCommit/OffsetFetch tolerate empty ones) and may not contain the key separator. */
function groupIdError(groupId: string, allowEmpty = false): GroupErrorCode | undefined {
  if ((!allowEmpty && groupId.length === 0) || groupId.includes('\u0000')) return 'INVALID_GROUP_ID';
  return undefined;
}
