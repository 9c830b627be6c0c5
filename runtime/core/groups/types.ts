/**
 * The protocol-neutral vocabulary of the classic consumer-group protocol: group states, per-request outcomes and the
 * shapes the coordinator accepts and returns. Outcomes are named, not numbered; the Kafka edge maps them to wire
 * error codes (protocols/kafka/apis/groups/errors.ts).
 */

/** Group states as Kafka reports them in ListGroups / DescribeGroups. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** Why a group request did not (fully) succeed. Each maps to one Kafka error code. */
export type GroupErrorCode =
  | 'COORDINATOR_NOT_AVAILABLE'
  | 'INVALID_GROUP_ID'
  | 'INVALID_SESSION_TIMEOUT'
  | 'UNKNOWN_MEMBER_ID'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'MEMBER_ID_REQUIRED'
  | 'FENCED_INSTANCE_ID'
  | 'NON_EMPTY_GROUP'
  | 'GROUP_ID_NOT_FOUND'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'OFFSET_METADATA_TOO_LARGE'
  | 'INVALID_COMMIT_OFFSET_SIZE';

export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinRequest {
  groupId: string;
  /** Empty for a member joining for the first time. */
  memberId: string;
  /** Static membership (KIP-345): the user-provided identity that survives restarts; null for dynamic members. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** JoinGroup v4+ (KIP-394): a dynamic member without an id gets one assigned and must join again with it. */
  requireKnownMemberId: boolean;
}

export interface JoinedMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinResult {
  error?: GroupErrorCode;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  /** The member's id; the newly assigned one with MEMBER_ID_REQUIRED. */
  memberId: string;
  /** Every member with its metadata for the chosen protocol, for the leader only; empty for followers. */
  members: JoinedMember[];
  /** KIP-814: a static leader rejoining a stable group must not compute a new assignment. */
  skipAssignment: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5 sends these; null when the client did not. */
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignment per member; followers send none. */
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface SyncResult {
  error?: GroupErrorCode;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveResult {
  error?: GroupErrorCode;
  members: Array<LeavingMember & { error?: GroupErrorCode }>;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The metadata of the selected protocol (empty unless the group is stable or completing a rebalance). */
  metadata: Buffer;
  assignment: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The selected protocol name, only when the group is Stable (Kafka's ProtocolData). */
  protocolName: string;
  members: MemberDescription[];
  error?: GroupErrorCode;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

export interface OffsetCommitRequest {
  groupId: string;
  /** -1 for a commit outside group management (simple consumers, admin tools). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: CommitOffset[];
}

export interface CommitOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface CommitResult {
  topic: string;
  partition: number;
  error?: GroupErrorCode;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  /** -1 when nothing was committed. */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}
