/**
 * The in-memory state of one classic group: members, leader, generation, selected protocol and the static-member
 * index. Pure bookkeeping; the coordinator drives the state machine and owns the timers.
 */
import { GroupMember } from './member.js';
import type { GroupProtocol, GroupState, JoinedMember } from './types.js';

export class ClassicGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  /** Kept while the group is Empty so ListGroups still reports it. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** KIP-394: ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** KIP-345: group.instance.id → current member id. */
  readonly staticMembers = new Map<string, string>();
  /** The join phase deadline (rebalance timeout, or the initial delay of an empty group). */
  joinTimer?: NodeJS.Timeout;
  /** Whether the current join phase is the initial delayed one (group.initial.rebalance.delay.ms). */
  initialJoin = false;
  /** A member joined during the initial delay, so the delay is extended once more. */
  newMemberAdded = false;
  /** Members that received this generation's JoinGroup response but have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();

  constructor(readonly groupId: string) {}

  is(...states: GroupState[]): boolean {
    return states.includes(this.state);
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.leaderId ??= member.memberId;
  }

  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.pendingSync.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /** Gives a static member a new member id, keeping its assignment (KIP-345 rejoin after restart). */
  replaceStaticMember(member: GroupMember, newMemberId: string): void {
    const oldMemberId = member.memberId;
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
  }

  staticMemberId(groupInstanceId: string | null): string | undefined {
    return groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
  }

  /** A static member presenting a member id other than the current one for its instance id is a zombie. */
  isFenced(memberId: string, groupInstanceId: string | null): boolean {
    const current = this.staticMemberId(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** Whether a member with these protocols may join: same protocol type and at least one protocol all support. */
  supportsProtocols(protocolType: string, protocols: GroupProtocol[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    return this.protocolType === protocolType && protocols.some((p) => this.supportedByAll(p.name));
  }

  hasAllMembersJoined(): boolean {
    return this.pendingMembers.size === 0 && [...this.members.values()].every((m) => m.awaitingJoin !== undefined);
  }

  /** The join phase waits for the slowest member: the largest rebalance timeout among them. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /**
   * Picks the protocol every member supports that most members prefer (each votes for its first supported
   * candidate); ties go to the leader's order of preference, as Kafka's vote does.
   */
  selectProtocol(): string | null {
    const members = [...this.members.values()];
    const leader = (this.leaderId !== null ? this.members.get(this.leaderId) : undefined) ?? members[0];
    if (!leader) return null;
    const candidates = leader.protocols.map((p) => p.name).filter((name) => this.supportedByAll(name));
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of members) {
      const choice = m.protocols.find((p) => votes.has(p.name));
      if (choice) votes.set(choice.name, votes.get(choice.name)! + 1);
    }
    let best: string | null = null;
    for (const name of candidates) if (best === null || votes.get(name)! > votes.get(best)!) best = name;
    return best;
  }

  /** The member list the leader receives in its JoinGroup response. */
  joinedMembers(): JoinedMember[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName),
    }));
  }

  private supportedByAll(protocolName: string): boolean {
    for (const m of this.members.values()) if (!m.supports(protocolName)) return false;
    return true;
  }
}
