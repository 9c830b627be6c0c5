/**
 * The boundary for partition leadership re-assignment. The scheduler finds the live brokers; the implementation
 * gives every partition whose leader is not among them to a live broker through a conditional write that bumps
 * the partition's leader epoch, so a broker that comes back from the dead is fenced off. The partition leadership
 * records it works on come with the cluster roles; until an implementation is passed to the tick, the tick reports
 * `reassignment: 'unavailable'` instead of pretending to move anything.
 */
import type { MetaStore } from '../meta/store.js';
import type { BrokerLease } from './leases.js';

export interface ReassignmentResult {
  /** Partitions whose leadership moved to a live broker. */
  readonly moved: number;
  /** Partitions left without a leader because no broker is live. */
  readonly leaderless: number;
}

export type ReassignLeadership = (meta: MetaStore, live: readonly BrokerLease[], now: number) => Promise<ReassignmentResult>;
