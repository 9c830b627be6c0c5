/**
 * The scaling decision, pure: from the broker service's task counts, the live brokers' leases and the load
 * balancer's traffic, the number of brokers the service should run. Rules, first match wins:
 *
 * 1. above-max / below-min: the desired count is brought back inside [minBrokers, maxBrokers].
 * 2. wake: a service scaled to zero gets one broker when clients tried to connect in the idle window.
 * 3. connections: more brokers when the connections held exceed `connectionsPerBroker` per broker
 *    (scale-out only; Application Auto Scaling's target tracking also scales in on the same metric).
 * 4. idle: back to minBrokers when no client was connected or active for `idleAfterMs`, judged from the load
 *    balancer and every live lease alike. Unknown traffic (CloudWatch unreadable) is never idle, and a
 *    service with tasks still starting is left alone.
 */
import { totalConnections, type BrokerLease } from './leases.js';

export interface ServiceCounts {
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
}

/** What the load balancer saw over the idle window. */
export interface TrafficSignal {
  /** Start (epoch ms) of the latest minute with a new flow, an open flow or a reset; undefined: none. */
  readonly lastClientActivityAt?: number;
  /** Start of the latest minute with a connection attempt (a new flow, or a reset for want of a target). */
  readonly lastConnectAttemptAt?: number;
  /** Open client connections in the latest minute reported. */
  readonly activeFlows: number;
}

export interface ScalingPolicy {
  readonly minBrokers: number;
  readonly maxBrokers: number;
  /** Connections one broker is sized for. */
  readonly connectionsPerBroker: number;
  /** How long without clients before the service goes back to minBrokers. */
  readonly idleAfterMs: number;
}

export type DecisionReason = 'unchanged' | 'above-max' | 'below-min' | 'wake' | 'connections' | 'idle';

export interface Decision {
  readonly desired: number;
  readonly reason: DecisionReason;
}

export interface DecisionInput {
  readonly now: number;
  readonly service: ServiceCounts;
  readonly brokers: readonly BrokerLease[];
  /** undefined when the traffic could not be read. */
  readonly traffic: TrafficSignal | undefined;
  readonly policy: ScalingPolicy;
}

/** Connections held: what the leases report when brokers report, else the load balancer's open flows. */
export function connectionsHeld(brokers: readonly BrokerLease[], traffic: TrafficSignal | undefined): number | undefined {
  if (brokers.length > 0) return brokers.reduce((sum, b) => sum + totalConnections(b), 0);
  return traffic?.activeFlows;
}

export function decideDesiredCount(input: DecisionInput): Decision {
  const { now, service, brokers, traffic, policy } = input;
  const { minBrokers, maxBrokers } = policy;
  if (service.desired > maxBrokers) return { desired: maxBrokers, reason: 'above-max' };
  if (service.desired < minBrokers) return { desired: minBrokers, reason: 'below-min' };

  const recent = (at: number | undefined): boolean => at !== undefined && now - at < policy.idleAfterMs;
  if (service.desired === 0 && maxBrokers > 0 && recent(traffic?.lastConnectAttemptAt)) {
    return { desired: 1, reason: 'wake' };
  }

  const held = connectionsHeld(brokers, traffic) ?? 0;
  const needed = Math.min(maxBrokers, Math.ceil(held / policy.connectionsPerBroker));
  if (needed > service.desired) return { desired: needed, reason: 'connections' };

  if (service.desired > minBrokers && service.pending === 0 && isIdle(now, brokers, traffic, policy.idleAfterMs)) {
    return { desired: minBrokers, reason: 'idle' };
  }
  return { desired: service.desired, reason: 'unchanged' };
}

function isIdle(now: number, brokers: readonly BrokerLease[], traffic: TrafficSignal | undefined, idleAfterMs: number): boolean {
  if (traffic === undefined) return false;
  if (traffic.activeFlows > 0) return false;
  if (traffic.lastClientActivityAt !== undefined && now - traffic.lastClientActivityAt < idleAfterMs) return false;
  return brokers.every((b) => totalConnections(b) === 0 && now - b.lastActivityAt >= idleAfterMs);
}
