/**
 * Partition leadership re-assignment as the scaling function runs it: once a minute, the leadership pass of
 * runtime/cluster/reassign.ts. Every partition whose leader holds no live lease goes to a live broker through a
 * compare-and-set write that bumps the partition's leader epoch, after the dead broker's S3 write lease has been
 * bumped (fenced), so a broker that comes back from a pause cannot commit. Load is evened out by at most
 * `REBALANCE_MOVES_PER_RUN` cooperative handoffs per run.
 *
 * A `robustmq meta` process (the stack's meta service) runs the same pass every half second, which is what makes
 * failover take seconds; this one is the safety net when that process is not deployed or not running. The two
 * cannot undo each other: each write is conditional on the entry's version.
 */
import { reassignLeadership, type ReassignOutcome } from '../cluster/reassign.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { BrokerLease } from './leases.js';

export type ReassignmentResult = ReassignOutcome;

export type ReassignLeadership = (meta: MetaStore, live: readonly BrokerLease[], now: number) => Promise<ReassignmentResult>;

/**
 * Balancing handoffs one run may ask for (a dead broker's partitions always move at once, whatever the budget).
 * The function runs once a minute, so this is `robustmq meta`'s default rate (--cluster-moves-per-minute 6).
 */
export const REBALANCE_MOVES_PER_RUN = 6;

/** The `reassign` dependency of runSchedulerTick (tick.ts). */
export function schedulerReassign(log?: Logger): ReassignLeadership {
  return (meta, live, now) => reassignLeadership(meta, live, now, { maxMoves: REBALANCE_MOVES_PER_RUN, log });
}
