/**
 * One scheduler run end to end: leases in a DynamoDB MetaStore (dynalite), the ECS and CloudWatch clients mocked
 * at the SDK level (aws-sdk-client-mock), so the requests the scheduler sends are what is asserted.
 */
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RobustMQError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/logger.js';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import { CloudWatchTraffic } from '../../runtime/scheduler/cloudwatch.js';
import type { ScalingPolicy } from '../../runtime/scheduler/decide.js';
import { EcsServiceScaler } from '../../runtime/scheduler/ecs.js';
import type { BrokerLeaseInput } from '../../runtime/scheduler/leases.js';
import { runSchedulerTick, type SchedulerDeps } from '../../runtime/scheduler/tick.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';

const MIN = 60_000;
const LB = 'net/robustmq/0123456789abcdef';
const policy: ScalingPolicy = { minBrokers: 1, maxBrokers: 4, connectionsPerBroker: 1000, idleAfterMs: 15 * MIN };

const ecsMock = mockClient(ECSClient);
const cwMock = mockClient(CloudWatchClient);
let dynamo: Dynalite;
let meta: DynamoMetaStore;
let tableNo = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  ecsMock.restore();
  cwMock.restore();
  await dynamo?.close();
});
beforeEach(async () => {
  ecsMock.reset();
  cwMock.reset();
  meta = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, tablePrefix: `tick${++tableNo}` });
});
afterEach(async () => meta?.close());

const nothingToMove = { moved: 0, leaderless: 0, handoffs: 0, fenced: [] };

function deps(extra: Partial<SchedulerDeps> = {}): SchedulerDeps {
  return {
    meta,
    log: createLogger('silent', { pretty: false }),
    reassign: async () => nothingToMove,
    service: new EcsServiceScaler(new ECSClient({ region: TEST_REGION }), 'robustmq-cluster', 'robustmq-brokers'),
    traffic: new CloudWatchTraffic(new CloudWatchClient({ region: TEST_REGION }), LB, 'robustmq-brokers'),
    ...extra,
  };
}

function service(desired: number, running = desired, pending = 0): void {
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [{ serviceName: 'robustmq-brokers', status: 'ACTIVE', desiredCount: desired, runningCount: running, pendingCount: pending }],
    failures: [],
  });
  ecsMock.on(UpdateServiceCommand).resolves({});
}

/** CloudWatch answers with per-minute points: `minutesAgo → value` for each metric id. */
function traffic(now: number, points: Partial<Record<'newflows' | 'active' | 'resets', Record<number, number>>>): void {
  const results: MetricDataResult[] = (['newflows', 'active', 'resets'] as const).map((id) => {
    const series = Object.entries(points[id] ?? {}).sort(([a], [b]) => Number(a) - Number(b));
    return {
      Id: id,
      StatusCode: 'Complete',
      Timestamps: series.map(([ago]) => new Date(now - Number(ago) * MIN)),
      Values: series.map(([, v]) => v),
    };
  });
  cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: results });
  cwMock.on(PutMetricDataCommand).resolves({});
}

async function putLease(id: string, value: Partial<BrokerLeaseInput>, ttlMs = 30_000): Promise<void> {
  const now = Date.now();
  await meta.put('brokers', id, { id, host: '10.0.1.7', startedAt: now - 3_600_000, heartbeatAt: now, lastActivityAt: now, connections: {}, ...value }, { ttlMs });
}

const updates = () => ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
const published = () => cwMock.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);

describe('scheduler run', () => {
  it('scales an idle service back to minBrokers through UpdateService', async () => {
    const now = Date.now();
    service(3);
    traffic(now, { active: { 14: 0, 3: 0 }, newflows: {} });
    await putLease('b1', { connections: { mqtt: 0, kafka: 0 }, lastActivityAt: now - 20 * MIN });
    const result = await runSchedulerTick(deps(), policy, now);
    expect(result.decision).toEqual({ desired: 1, reason: 'idle' });
    expect(result.scaled).toBe(true);
    expect(updates()).toEqual([{ cluster: 'robustmq-cluster', service: 'robustmq-brokers', desiredCount: 1 }]);
    expect(result.liveBrokers).toEqual(['b1']);
  });

  it('asks CloudWatch for the load balancer flows over the idle window, minute by minute', async () => {
    const now = Date.now();
    service(1);
    traffic(now, {});
    await runSchedulerTick(deps(), policy, now);
    const [call] = cwMock.commandCalls(GetMetricDataCommand);
    const input = call!.args[0].input;
    expect(input.StartTime?.getTime()).toBe(now - policy.idleAfterMs);
    expect(input.EndTime?.getTime()).toBe(now);
    for (const q of input.MetricDataQueries ?? []) {
      expect(q.MetricStat?.Metric?.Namespace).toBe('AWS/NetworkELB');
      expect(q.MetricStat?.Metric?.Dimensions).toEqual([{ Name: 'LoadBalancer', Value: LB }]);
      expect(q.MetricStat?.Period).toBe(60);
    }
    expect((input.MetricDataQueries ?? []).map((q) => q.MetricStat?.Metric?.MetricName).sort()).toEqual(['ActiveFlowCount', 'NewFlowCount', 'TCP_ELB_Reset_Count']);
  });

  it('adds brokers for the connections the leases report and publishes connections per broker', async () => {
    const now = Date.now();
    service(2);
    traffic(now, { active: { 1: 2400 }, newflows: { 1: 40 } });
    await putLease('b1', { connections: { mqtt: 1200, kafka: 300 } });
    await putLease('b2', { connections: { mqtt: 1100 } });
    const result = await runSchedulerTick(deps(), policy, now);
    expect(result.decision).toEqual({ desired: 3, reason: 'connections' });
    expect(updates()).toEqual([{ cluster: 'robustmq-cluster', service: 'robustmq-brokers', desiredCount: 3 }]);
    expect(published()).toEqual([
      {
        Namespace: 'RobustMQ',
        MetricData: [{ MetricName: 'ConnectionsPerBroker', Dimensions: [{ Name: 'Service', Value: 'robustmq-brokers' }], Value: 1300, Unit: 'Count' }],
      },
    ]);
  });

  it('wakes a service scaled to zero when the load balancer saw connection attempts', async () => {
    const now = Date.now();
    service(0);
    traffic(now, { resets: { 2: 5 } });
    const result = await runSchedulerTick(deps(), { ...policy, minBrokers: 0 }, now);
    expect(result.decision).toEqual({ desired: 1, reason: 'wake' });
    expect(updates().map((u) => u.desiredCount)).toEqual([1]);
    expect(published()).toEqual([]);
  });

  it('leaves the service alone when nothing calls for a change', async () => {
    const now = Date.now();
    service(2);
    traffic(now, { active: { 1: 5 }, newflows: { 1: 1 } });
    const result = await runSchedulerTick(deps(), policy, now);
    expect(result.decision.reason).toBe('unchanged');
    expect(updates()).toEqual([]);
    expect(published().map((p) => p.MetricData?.[0]?.Value)).toEqual([2.5]);
  });

  it('holds back scale-in when CloudWatch cannot be read, but still enforces minBrokers', async () => {
    const now = Date.now();
    service(3);
    cwMock.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    let result = await runSchedulerTick(deps(), policy, now);
    expect(result.traffic).toBeUndefined();
    expect(result.decision).toEqual({ desired: 3, reason: 'unchanged' });
    expect(updates()).toEqual([]);

    service(0);
    result = await runSchedulerTick(deps(), policy, now);
    expect(result.decision).toEqual({ desired: 1, reason: 'below-min' });
    expect(updates().map((u) => u.desiredCount)).toEqual([1]);
  });

  it('fails the run when the service does not exist, without touching it', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:x', reason: 'MISSING' }] });
    traffic(Date.now(), {});
    await expect(runSchedulerTick(deps(), policy)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('MISSING') });
    expect(updates()).toEqual([]);
  });

  it('ignores expired and malformed leases', async () => {
    const now = Date.now();
    service(1);
    traffic(now, {});
    await putLease('live', { connections: { mqtt: 1 } });
    await putLease('old', { connections: { mqtt: 5000 } }, 1_000);
    await meta.put('brokers', 'garbled', { id: 'garbled', connections: 'lots' });
    // 'old' is still in the table for DynamoDB, but its lease ran out before this run's clock.
    const result = await runSchedulerTick(deps(), policy, now + 5_000);
    expect(result.liveBrokers).toEqual(['live']);
    expect(result.malformedLeases).toEqual(['garbled']);
    expect(result.decision.reason).toBe('unchanged');
  });

  it('hands the live brokers to the partition leadership pass and reports what it did', async () => {
    const now = Date.now();
    service(1);
    traffic(now, {});
    await putLease('b1', {});
    await putLease('b2', {});
    await putLease('gone', {}, 1_000);
    const seen: Array<{ ids: string[]; at: number }> = [];
    const outcome = { moved: 3, leaderless: 0, handoffs: 1, fenced: ['gone'] };
    const result = await runSchedulerTick(
      deps({
        reassign: async (store, live, at) => {
          expect(store).toBe(meta);
          seen.push({ ids: live.map((b) => b.id), at });
          return outcome;
        },
      }),
      policy,
      now + 5_000,
    );
    expect(seen).toEqual([{ ids: ['b1', 'b2'], at: now + 5_000 }]);
    expect(result.reassignment).toEqual(outcome);
  });

  it('still scales when the leadership pass fails, and reports the failure', async () => {
    const now = Date.now();
    service(0);
    traffic(now, { newflows: { 1: 3 } });
    const result = await runSchedulerTick(
      deps({
        reassign: async () => {
          throw new RobustMQError('STORAGE_UNAVAILABLE', 'DynamoDB throttled the scheduler');
        },
      }),
      { ...policy, minBrokers: 0 },
      now,
    );
    expect(result.reassignment).toEqual({ failed: 'STORAGE_UNAVAILABLE' });
    expect(result.decision).toEqual({ desired: 1, reason: 'wake' });
    expect(updates().map((u) => u.desiredCount)).toEqual([1]);
  });
});
