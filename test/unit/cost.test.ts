import { afterEach, describe, expect, it, vi } from 'vitest';
import { costCommand } from '../../runtime/cli/cost.js';
import {
  brokersFor,
  compare,
  flushesPerMonth,
  iotCore,
  mskServerless,
  PRICES_AS_OF,
  robustmqIdle,
  type Shape,
  type Workload,
} from '../../runtime/cli/cost-model.js';

const shape: Shape = {
  minBrokers: 1,
  maxBrokers: 4,
  vcpu: 0.25,
  memoryGb: 0.5,
  zones: 2,
  flushMs: 250,
  flushBytes: 8 * 1024 * 1024,
  connectionsPerBroker: 5000,
  brokerMessagesPerSecond: 2000,
  polledNamespaces: 3,
};
const workload: Workload = {
  messagesPerMonth: 10_000_000,
  messageBytes: 1024,
  fanOut: 1,
  connections: 1000,
  partitions: 10,
  retentionDays: 7,
  internetShare: 1,
};
const SECONDS = 730 * 3600;
const line = (lines: Array<{ item: string; usd: number }>, prefix: string) => lines.find((l) => l.item.startsWith(prefix))!.usd;

describe('cost model', () => {
  it('prices an idle deployment from its fixed parts: one ARM task, the load balancer hour, three public IPs', () => {
    const idle = robustmqIdle(shape);
    expect(line(idle.lines, 'Fargate')).toBeCloseTo((0.25 * 0.03238 + 0.5 * 0.00356) * 730, 6);
    expect(line(idle.lines, 'Network load balancer, hours')).toBeCloseTo(16.425, 6);
    expect(line(idle.lines, 'Public IPv4')).toBeCloseTo(3 * 0.005 * 730, 6);
    expect(idle.lines.some((l) => l.item.startsWith('S3'))).toBe(false);
    const withoutMeta = robustmqIdle({ ...shape, metaService: false });
    expect(withoutMeta.total).toBeGreaterThan(35);
    expect(withoutMeta.total).toBeLessThan(45);
    expect(withoutMeta.lines.some((l) => l.item.startsWith('Meta service'))).toBe(false);
  });

  it('adds the one-task meta service (failover in seconds) unless it is left out', () => {
    const idle = robustmqIdle(shape);
    const meta = line(idle.lines, 'Meta service');
    expect(meta).toBeGreaterThan((0.25 * 0.03238 + 0.5 * 0.00356 + 0.005) * 730);
    expect(meta).toBeLessThan(20);
    expect(idle.total).toBeCloseTo(robustmqIdle({ ...shape, metaService: false }).total + meta, 6);
  });

  it('drops the tasks but keeps the load balancer when minBrokers is 0', () => {
    const idle = robustmqIdle({ ...shape, minBrokers: 0 });
    expect(line(idle.lines, 'Fargate')).toBe(0);
    expect(line(idle.lines, 'Public IPv4')).toBeCloseTo(2 * 0.005 * 730, 6);
    expect(idle.total).toBeLessThan(robustmqIdle(shape).total - 10);
  });

  it('writes one object per flush: per message at low rates, per interval at high rates, per 8 MiB for big messages', () => {
    expect(flushesPerMonth(shape, workload, 1)).toBe(10_000_000);
    const busy = { ...workload, messagesPerMonth: 1e10 };
    expect(flushesPerMonth(shape, busy, 2)).toBeCloseTo((2 * SECONDS) / 0.25, 0);
    const big = { ...workload, messagesPerMonth: 1e9, messageBytes: 1024 * 1024 };
    expect(flushesPerMonth(shape, big, 1)).toBeCloseTo((1e9 * 1024 * 1024) / (8 * 1024 * 1024), 0);
    expect(flushesPerMonth(shape, { ...workload, messagesPerMonth: 0 }, 1)).toBe(0);
  });

  it('sizes the brokers by connections and message rate, within the bounds', () => {
    expect(brokersFor(shape, workload)).toBe(1);
    expect(brokersFor(shape, { ...workload, connections: 12_000 })).toBe(3);
    expect(brokersFor(shape, { ...workload, messagesPerMonth: 3000 * SECONDS })).toBe(2);
    expect(brokersFor(shape, { ...workload, connections: 1e6 })).toBe(4);
  });

  it('prices MSK Serverless by cluster and partition hours plus bytes', () => {
    const idle = mskServerless({ ...workload, messagesPerMonth: 0 });
    expect(idle.total).toBeCloseTo(0.75 * 730 + 10 * 0.0015 * 730, 6);
    const oneGib = mskServerless({ ...workload, messagesPerMonth: 1024 ** 2, retentionDays: 0 });
    expect(oneGib.total - idle.total).toBeCloseTo(0.1 + 0.05, 6);
  });

  it('prices IoT Core per 5 KB message unit, publishes and deliveries alike, in volume tiers', () => {
    expect(line(iotCore({ ...workload, connections: 0 }).lines, 'Messaging')).toBeCloseTo(20, 6);
    expect(line(iotCore({ ...workload, messageBytes: 6 * 1024, connections: 0 }).lines, 'Messaging')).toBeCloseTo(40, 6);
    expect(line(iotCore({ ...workload, messagesPerMonth: 1e9 }).lines, 'Messaging')).toBeCloseTo(1000 + 800, 6);
    expect(line(iotCore(workload).lines, 'Connectivity')).toBeCloseTo((1000 * 43_800 * 0.08) / 1e6, 6);
  });

  it('compares idle, marginal and workload costs of the three services', () => {
    const rows = Object.fromEntries(compare(shape, workload).map((r) => [r.service, r]));
    expect(Object.keys(rows)).toEqual(['RobustMQ', 'Amazon MSK Serverless', 'AWS IoT Core']);
    expect(rows['AWS IoT Core']!.idle).toBe(0);
    expect(rows['AWS IoT Core']!.perMillionMessages).toBeCloseTo(2, 6);
    expect(rows['Amazon MSK Serverless']!.idle).toBeGreaterThan(500);
    // At 0.4 messages/s every message is its own flush: an S3 PUT ($5/M) and a 4-unit commit ($2.50/M).
    const low = compare(shape, { ...workload, messagesPerMonth: 1_000_000 })[0]!;
    expect(low.perMillionMessages).toBeGreaterThan(7.5);
    expect(low.perMillionMessages).toBeLessThan(7.7);
    // At 10 M a month (3.8/s) a broker is close to its 4 flushes a second: one more million adds fewer flushes.
    expect(rows['RobustMQ']!.perMillionMessages).toBeLessThan(low.perMillionMessages);
    // At 1,500 messages/s the flushes are already paid for; one more million costs bytes only.
    const busy = Object.fromEntries(compare(shape, { ...workload, messagesPerMonth: 1500 * SECONDS }).map((r) => [r.service, r]));
    expect(busy['RobustMQ']!.perMillionMessages).toBeLessThan(0.2);
    expect(busy['RobustMQ']!.perGb).toBeCloseTo(2 * 0.006 + 0.09 + 0.023 * (7 / 30.4), 4);
  });
});

describe('robustmq cost', () => {
  afterEach(() => vi.restoreAllMocks());

  async function run(args: string[]): Promise<string> {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    await costCommand().exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(args, { from: 'user' });
    return out;
  }

  it('prints the idle cost and the three services side by side, with the price date', async () => {
    const text = await run([]);
    expect(text).toContain(`list prices of ${PRICES_AS_OF}`);
    expect(text).toMatch(/At idle \(1 broker\(s\), no clients\)/);
    expect(text).toMatch(/^SERVICE\s+IDLE\s+PER GIB\s+PER 1M MSGS\s+WORKLOAD$/m);
    for (const service of ['RobustMQ', 'Amazon MSK Serverless', 'AWS IoT Core']) expect(text).toMatch(new RegExp(`^${service}\\s+\\d+\\.\\d\\d`, 'm'));
  });

  it('takes the shape and workload from flags and prints JSON', async () => {
    const report = JSON.parse(await run(['--json', '--min-brokers', '0', '--messages', '1_000_000', '--connections', '20000']));
    expect(report.pricesAsOf).toBe(PRICES_AS_OF);
    expect(report.brokersAtWorkload).toBe(4);
    expect(report.idle.lines[0].usd).toBe(0);
    expect(report.comparison).toHaveLength(3);
  });

  it('rejects values it cannot price', async () => {
    await expect(run(['--fan-out', '-1'])).rejects.toThrow(/--fan-out must be a number >= 0/);
    await expect(run(['--min-brokers', '5', '--max-brokers', '2'])).rejects.toThrow(/--min-brokers must not exceed --max-brokers/);
  });
});
