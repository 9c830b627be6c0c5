/** One member of a classic group: what it joined with, what it was assigned, and the requests it has parked. */
import type { GroupProtocol, JoinResult, SyncResult } from './types.js';

export const EMPTY = Buffer.alloc(0);

export class GroupMember {
  protocols: GroupProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignment: Buffer = EMPTY;
  /** A JoinGroup waiting for the join phase to complete. */
  awaitingJoin?: (result: JoinResult) => void;
  /** A follower's SyncGroup waiting for the leader's assignment. */
  awaitingSync?: (result: SyncResult) => void;
  /** Joined during the current rebalance and has not yet received a JoinGroup response. */
  isNew = false;
  /** Fires when the member stops heartbeating for its session timeout. */
  sessionTimer?: NodeJS.Timeout;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    readonly protocolType: string,
    protocols: GroupProtocol[],
    sessionTimeoutMs: number,
    rebalanceTimeoutMs: number,
  ) {
    this.protocols = protocols;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.rebalanceTimeoutMs = rebalanceTimeoutMs;
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((p) => p.name === protocolName);
  }

  metadataFor(protocolName: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY;
  }

  /** Same protocols, in the same order, with the same metadata: a rejoin that needs no rebalance. */
  matches(protocols: GroupProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }

  /** Members parked in JoinGroup or SyncGroup are alive by definition (Kafka's shouldKeepAlive). */
  get keepsAlive(): boolean {
    return this.awaitingJoin !== undefined || this.awaitingSync !== undefined;
  }

  answerJoin(result: JoinResult): void {
    const respond = this.awaitingJoin;
    this.awaitingJoin = undefined;
    this.isNew = false;
    respond?.(result);
  }

  answerSync(result: SyncResult): void {
    const respond = this.awaitingSync;
    this.awaitingSync = undefined;
    respond?.(result);
  }
}
