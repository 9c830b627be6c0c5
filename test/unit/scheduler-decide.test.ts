import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideDesiredCount, type DecisionInput, type ScalingPolicy, type TrafficSignal } from '../../runtime/scheduler/decide.js';
import type { BrokerLease } from '../../runtime/scheduler/leases.js';

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const policy: ScalingPolicy = { minBrokers: 1, maxBrokers: 4, connectionsPerBroker: 1000, idleAfterMs: 15 * MIN };
const quiet: TrafficSignal = { activeFlows: 0 };

function lease(id: string, connections: number, idleForMs = 0): BrokerLease {
  return {
    id,
    host: `10.0.0.${id.length}`,
    startedAt: NOW - 3_600_000,
    heartbeatAt: NOW - 1000,
    connections: { mqtt: connections },
    lastActivityAt: NOW - idleForMs,
  };
}

function decide(over: Partial<DecisionInput> & { desired?: number; pending?: number }) {
  const desired = over.desired ?? 1;
  return decideDesiredCount({
    now: NOW,
    service: over.service ?? { desired, running: desired, pending: over.pending ?? 0 },
    brokers: over.brokers ?? [],
    traffic: 'traffic' in over ? over.traffic : quiet,
    policy: over.policy ?? policy,
  });
}

describe('scaling decision', () => {
  it('brings the count back inside [minBrokers, maxBrokers]', () => {
    expect(decide({ desired: 9 })).toEqual({ desired: 4, reason: 'above-max' });
    expect(decide({ desired: 0 })).toEqual({ desired: 1, reason: 'below-min' });
    expect(decide({ desired: 0, traffic: undefined })).toEqual({ desired: 1, reason: 'below-min' });
  });

  it('wakes a service scaled to zero when clients tried to connect within the idle window', () => {
    const zero = { ...policy, minBrokers: 0 };
    expect(decide({ desired: 0, policy: zero, traffic: { activeFlows: 0, lastConnectAttemptAt: NOW - 2 * MIN } })).toEqual({ desired: 1, reason: 'wake' });
    expect(decide({ desired: 0, policy: zero, traffic: { activeFlows: 0, lastConnectAttemptAt: NOW - 20 * MIN } })).toEqual({ desired: 0, reason: 'unchanged' });
    expect(decide({ desired: 0, policy: zero, traffic: undefined })).toEqual({ desired: 0, reason: 'unchanged' });
  });

  it('adds brokers when the connections held exceed connectionsPerBroker each, up to maxBrokers', () => {
    expect(decide({ desired: 1, brokers: [lease('a', 900), lease('b', 1600)] })).toEqual({ desired: 3, reason: 'connections' });
    expect(decide({ desired: 2, brokers: [lease('a', 9000)] })).toEqual({ desired: 4, reason: 'connections' });
    expect(decide({ desired: 3, brokers: [lease('a', 1500), lease('b', 1500)] })).toEqual({ desired: 3, reason: 'unchanged' });
  });

  it('counts the load balancer flows when no broker reports a lease', () => {
    expect(decide({ desired: 1, traffic: { activeFlows: 2500, lastClientActivityAt: NOW - MIN } })).toEqual({ desired: 3, reason: 'connections' });
  });

  it('scales an idle service to minBrokers only when both the load balancer and every lease were idle for the window', () => {
    const longAgo = NOW - 16 * MIN;
    expect(decide({ desired: 3, brokers: [lease('a', 0, 16 * MIN)], traffic: { activeFlows: 0, lastClientActivityAt: longAgo } })).toEqual({ desired: 1, reason: 'idle' });
    expect(decide({ desired: 3 })).toEqual({ desired: 1, reason: 'idle' });
    // Recent load balancer activity, an open flow, a recently active broker or a connected client: not idle.
    expect(decide({ desired: 3, traffic: { activeFlows: 0, lastClientActivityAt: NOW - 5 * MIN } }).reason).toBe('unchanged');
    expect(decide({ desired: 3, traffic: { activeFlows: 1 } }).reason).toBe('unchanged');
    expect(decide({ desired: 3, brokers: [lease('a', 0, 5 * MIN)] }).reason).toBe('unchanged');
    expect(decide({ desired: 3, brokers: [lease('a', 0, 16 * MIN), lease('b', 1, 16 * MIN)] }).reason).toBe('unchanged');
  });

  it('never scales in on unknown traffic or while tasks are starting', () => {
    expect(decide({ desired: 3, traffic: undefined })).toEqual({ desired: 3, reason: 'unchanged' });
    expect(decide({ desired: 3, pending: 1 })).toEqual({ desired: 3, reason: 'unchanged' });
  });

  it('scales to zero when minBrokers is 0 and nothing happened', () => {
    expect(decide({ desired: 2, policy: { ...policy, minBrokers: 0 } })).toEqual({ desired: 0, reason: 'idle' });
  });

  it('always lands inside the bounds and scales in only for idleness or the upper bound', () => {
    const leaseArb = fc.record({ connections: fc.nat(20_000), idle: fc.nat(40 * MIN) });
    const trafficArb = fc.option(
      fc.record({
        activeFlows: fc.nat(20_000),
        lastClientActivityAt: fc.option(fc.nat(40 * MIN).map((ago) => NOW - ago), { nil: undefined }),
        lastConnectAttemptAt: fc.option(fc.nat(40 * MIN).map((ago) => NOW - ago), { nil: undefined }),
      }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(
        fc.nat(5),
        fc.nat(6),
        fc.nat(12),
        fc.nat(3),
        fc.array(leaseArb, { maxLength: 6 }),
        trafficArb,
        (min, extra, desired, pending, leases, traffic) => {
          const p = { ...policy, minBrokers: min, maxBrokers: Math.max(1, min + extra) };
          const brokers = leases.map((l, i) => lease(`b${i}`, l.connections, l.idle));
          const d = decideDesiredCount({ now: NOW, service: { desired, running: desired, pending }, brokers, traffic, policy: p });
          expect(d.desired).toBeGreaterThanOrEqual(p.minBrokers);
          expect(d.desired).toBeLessThanOrEqual(p.maxBrokers);
          if (d.desired < desired) expect(['idle', 'above-max']).toContain(d.reason);
          if (d.reason === 'idle') expect(traffic).toBeDefined();
        },
      ),
    );
  });
});
