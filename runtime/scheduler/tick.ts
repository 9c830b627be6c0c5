/**
 * One scheduler run (every minute, from EventBridge in AWS): read the broker leases, re-assign the leadership of
 * dead brokers' partitions (reassign.ts), read the traffic, decide the broker count and apply it through the ECS
 * API, then publish the connections-per-broker metric. A failed re-assignment is logged and reported, and scaling
 * goes on: waking a service scaled to zero must not depend on the leadership entries being writable.
 */
import { isRobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { TrafficSource } from './cloudwatch.js';
import { connectionsHeld, decideDesiredCount, type Decision, type ScalingPolicy, type ServiceCounts, type TrafficSignal } from './decide.js';
import type { ServiceScaler } from './ecs.js';
import { readBrokerLeases } from './leases.js';
import type { ReassignLeadership, ReassignmentResult } from './reassign.js';

export interface SchedulerDeps {
  readonly meta: MetaStore;
  readonly service: ServiceScaler;
  readonly traffic: TrafficSource;
  /** Partition leadership re-assignment (reassign.ts: schedulerReassign). */
  readonly reassign: ReassignLeadership;
  readonly log: Logger;
}

export interface TickResult {
  readonly liveBrokers: string[];
  readonly malformedLeases: string[];
  /** What the leadership pass did, or the error code that stopped it (the next run tries again). */
  readonly reassignment: ReassignmentResult | { readonly failed: string };
  readonly service: ServiceCounts;
  /** undefined when CloudWatch could not be read (the tick then never scales in). */
  readonly traffic: TrafficSignal | undefined;
  readonly decision: Decision;
  /** Whether UpdateService was called. */
  readonly scaled: boolean;
  /** Connections per running broker published to CloudWatch, if any. */
  readonly connectionsPerBroker?: number;
}

export async function runSchedulerTick(deps: SchedulerDeps, policy: ScalingPolicy, now = Date.now()): Promise<TickResult> {
  const { log } = deps;
  const leases = await readBrokerLeases(deps.meta, now);
  if (leases.malformed.length > 0) log.warn({ keys: leases.malformed }, 'broker leases that do not parse were ignored');
  let reassignment: TickResult['reassignment'];
  try {
    reassignment = await deps.reassign(deps.meta, leases.live, now);
  } catch (err) {
    log.warn({ err }, 'partition leadership pass failed: scaling goes on, the next run tries again');
    reassignment = { failed: isRobustMQError(err) ? err.code : ((err as { name?: string }).name ?? 'Error') };
  }

  const service = await deps.service.describe();
  let traffic: TrafficSignal | undefined;
  try {
    traffic = await deps.traffic.read(policy.idleAfterMs, now);
  } catch (err) {
    log.warn({ err }, 'load balancer metrics unreadable: scaling in is held back this run');
  }

  const decision = decideDesiredCount({ now, service, brokers: leases.live, traffic, policy });
  const scaled = decision.desired !== service.desired;
  if (scaled) {
    await deps.service.setDesired(decision.desired);
    log.info({ from: service.desired, to: decision.desired, reason: decision.reason }, 'broker service scaled');
  }

  const held = connectionsHeld(leases.live, traffic);
  let connectionsPerBroker: number | undefined;
  if (held !== undefined && service.running > 0) {
    connectionsPerBroker = held / service.running;
    try {
      await deps.traffic.publishConnectionsPerBroker(connectionsPerBroker);
    } catch (err) {
      log.warn({ err }, 'connections metric not published');
      connectionsPerBroker = undefined;
    }
  }
  return {
    liveBrokers: leases.live.map((b) => b.id),
    malformedLeases: leases.malformed,
    reassignment,
    service,
    traffic,
    decision,
    scaled,
    connectionsPerBroker,
  };
}
