/**
 * Monthly cost of the AWS deployment (infra/) from AWS list prices, beside Amazon MSK Serverless and AWS IoT Core
 * for the same workload. Prices: us-east-1, on demand, no free tier, as listed on the AWS pricing pages at the date
 * below; they change, so check them before deciding anything on these numbers.
 */

export const PRICES_AS_OF = '2025-12';
export const PRICE_REGION = 'us-east-1';
export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GIB = 1024 ** 3;

export const PRICES = {
  fargateArmVcpuHour: 0.03238,
  fargateArmGbHour: 0.00356,
  nlbHour: 0.0225,
  /** One NLB LCU: 800 new TCP flows/s, 100,000 active flows, or 1 GB processed per hour, whichever is highest. */
  nlbLcuHour: 0.006,
  publicIpv4Hour: 0.005,
  s3GbMonth: 0.023,
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  lambdaArmGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  cloudwatchMetricMonth: 0.3,
  /** PutMetricData per 1,000 requests, GetMetricData per 1,000 metrics requested. */
  cloudwatchPer1000: 0.01,
  cloudwatchAlarmMonth: 0.1,
  logsIngestGb: 0.5,
  internetOutGb: 0.09,
  mskServerlessClusterHour: 0.75,
  mskServerlessPartitionHour: 0.0015,
  mskServerlessStorageGbMonth: 0.1,
  mskServerlessInGb: 0.1,
  mskServerlessOutGb: 0.05,
  iotPerMillionConnectionMinutes: 0.08,
  /** Per million messages, by monthly volume tier; a message is metered in 5 KB units. */
  iotMessageTiers: [
    { upTo: 1e9, perMillion: 1.0 },
    { upTo: 5e9, perMillion: 0.8 },
    { upTo: Infinity, perMillion: 0.7 },
  ],
  iotMessageUnitBytes: 5 * 1024,
} as const;

/** The deployed shape (the CDK stack's props). */
export interface Shape {
  /** The stack's one-task `meta` service (prop schedulerService) for failover in seconds. @default true */
  readonly metaService?: boolean;
  readonly minBrokers: number;
  readonly maxBrokers: number;
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly zones: number;
  readonly flushMs: number;
  /** Largest object a flush writes (s3FlushBytes). */
  readonly flushBytes: number;
  readonly connectionsPerBroker: number;
  /** Messages per second one broker of this size handles: an assumption to replace with your measurement. */
  readonly brokerMessagesPerSecond: number;
  /** MetaStore namespaces each broker polls once a second for other brokers' changes (dynamodbPollMs). */
  readonly polledNamespaces: number;
}

export interface Workload {
  readonly messagesPerMonth: number;
  readonly messageBytes: number;
  /** Deliveries per message (consumer groups or subscribers reading it). */
  readonly fanOut: number;
  /** Client connections held all month. */
  readonly connections: number;
  readonly partitions: number;
  readonly retentionDays: number;
  /** Share of delivered bytes that leave AWS for the internet (devices, on-premises consumers). */
  readonly internetShare: number;
}

export interface Line {
  readonly item: string;
  readonly usd: number;
}

export interface Estimate {
  readonly service: string;
  readonly lines: Line[];
  readonly total: number;
}

const estimate = (service: string, lines: Line[]): Estimate => ({ service, lines, total: lines.reduce((s, l) => s + l.usd, 0) });
const gb = (bytes: number): number => bytes / GIB;

/** Brokers running for a workload: the floor, the connections and the message rate each ask for some. */
export function brokersFor(shape: Shape, w: Workload): number {
  const rate = w.messagesPerMonth / SECONDS_PER_MONTH;
  const needed = Math.max(shape.minBrokers, Math.ceil(w.connections / shape.connectionsPerBroker), Math.ceil(rate / shape.brokerMessagesPerSecond));
  return Math.min(shape.maxBrokers, needed);
}

/** S3 objects (and meta commits) a month: one per flush while messages arrive, never more than one per message. */
export function flushesPerMonth(shape: Shape, w: Workload, brokers: number): number {
  if (w.messagesPerMonth === 0 || brokers === 0) return 0;
  const byTime = brokers * (SECONDS_PER_MONTH * 1000) / shape.flushMs;
  const bySize = (w.messagesPerMonth * w.messageBytes) / shape.flushBytes;
  return Math.max(Math.min(w.messagesPerMonth, byTime), bySize);
}

function fixedLines(shape: Shape, brokers: number): Line[] {
  const perBroker = (shape.vcpu * PRICES.fargateArmVcpuHour + shape.memoryGb * PRICES.fargateArmGbHour) * HOURS_PER_MONTH;
  const runs = HOURS_PER_MONTH * 60;
  // One run a minute: 256 MB for about half a second, 3 metrics read, 1 published; 2 alarms per tracking policy.
  const scheduler =
    runs * 0.25 * 0.5 * PRICES.lambdaArmGbSecond +
    (runs / 1e6) * PRICES.lambdaPerMillionRequests +
    ((runs * 4) / 1000) * PRICES.cloudwatchPer1000 +
    PRICES.cloudwatchMetricMonth +
    4 * PRICES.cloudwatchAlarmMonth +
    (runs / 1e6) * PRICES.dynamoReadPerMillion;
  const polls = brokers * shape.polledNamespaces * SECONDS_PER_MONTH;
  // The meta task: 0.25 vCPU / 0.5 GB, its public IPv4 address, and its leadership polls (2 a second).
  const meta =
    (0.25 * PRICES.fargateArmVcpuHour + 0.5 * PRICES.fargateArmGbHour + PRICES.publicIpv4Hour) * HOURS_PER_MONTH +
    ((2 * SECONDS_PER_MONTH) / 1e6) * PRICES.dynamoReadPerMillion;
  const metaLines: Line[] = shape.metaService === false ? [] : [{ item: 'Meta service: one Fargate ARM64 task, its IPv4 and polls', usd: meta }];
  return [
    { item: `Fargate ARM64, ${brokers} × (${shape.vcpu} vCPU, ${shape.memoryGb} GB)`, usd: brokers * perBroker },
    ...metaLines,
    { item: 'Network load balancer, hours', usd: PRICES.nlbHour * HOURS_PER_MONTH },
    { item: `Public IPv4, ${brokers} task(s) + ${shape.zones} load balancer zones`, usd: (brokers + shape.zones) * PRICES.publicIpv4Hour * HOURS_PER_MONTH },
    { item: 'Scheduler: Lambda every minute, CloudWatch metrics and alarms', usd: scheduler },
    { item: `DynamoDB reads, ${shape.polledNamespaces} namespace polls/s per broker`, usd: (polls / 1e6) * PRICES.dynamoReadPerMillion },
    // About 50 MB of logs a month per broker and as much from the scheduler's one line a minute.
    { item: 'CloudWatch Logs ingestion', usd: 0.05 * (brokers + 1) * PRICES.logsIngestGb },
  ];
}

/** RobustMQ's variable costs for `w` with `brokers` running. */
function trafficLines(shape: Shape, w: Workload, brokers: number): Line[] {
  const inBytes = w.messagesPerMonth * w.messageBytes;
  const outBytes = inBytes * w.fanOut;
  const flushes = flushesPerMonth(shape, w, brokers);
  const storedGbMonths = gb(inBytes) * Math.min(1, w.retentionDays / 30.4);
  const lcuHours = Math.max(gb(inBytes + outBytes), (w.connections / 100_000) * HOURS_PER_MONTH);
  return [
    { item: 'Network load balancer, LCUs (bytes or connections)', usd: lcuHours * PRICES.nlbLcuHour },
    { item: 'S3 PUT, one object per flush', usd: (flushes / 1000) * PRICES.s3PutPer1000 },
    // A commit is a two-item transaction (fence check + object entry): 2 write units per item.
    { item: 'DynamoDB writes, one commit per flush', usd: ((flushes * 4) / 1e6) * PRICES.dynamoWritePerMillion },
    { item: `S3 storage, ${w.retentionDays} days retained`, usd: storedGbMonths * PRICES.s3GbMonth },
    { item: 'Data transfer out to the internet', usd: gb(outBytes) * w.internetShare * PRICES.internetOutGb },
  ];
}

export function robustmqIdle(shape: Shape): Estimate {
  return estimate('RobustMQ', fixedLines(shape, shape.minBrokers));
}

export function robustmq(shape: Shape, w: Workload): Estimate {
  const brokers = brokersFor(shape, w);
  return estimate('RobustMQ', [...fixedLines(shape, brokers), ...trafficLines(shape, w, brokers)]);
}

export function mskServerless(w: Workload): Estimate {
  const inBytes = w.messagesPerMonth * w.messageBytes;
  return estimate('Amazon MSK Serverless', [
    { item: 'Cluster hours', usd: PRICES.mskServerlessClusterHour * HOURS_PER_MONTH },
    { item: `Partition hours, ${w.partitions} partitions`, usd: w.partitions * PRICES.mskServerlessPartitionHour * HOURS_PER_MONTH },
    { item: 'Data in', usd: gb(inBytes) * PRICES.mskServerlessInGb },
    { item: 'Data out', usd: gb(inBytes * w.fanOut) * PRICES.mskServerlessOutGb },
    { item: `Storage, ${w.retentionDays} days retained`, usd: gb(inBytes) * Math.min(1, w.retentionDays / 30.4) * PRICES.mskServerlessStorageGbMonth },
  ]);
}

/** IoT Core meters each publish received and each delivery, in 5 KB units, priced by monthly tiers. */
export function iotCore(w: Workload): Estimate {
  const units = Math.ceil(w.messageBytes / PRICES.iotMessageUnitBytes);
  const metered = w.messagesPerMonth * (1 + w.fanOut) * units;
  return estimate('AWS IoT Core', [
    { item: `Connectivity, ${w.connections} connections`, usd: ((w.connections * HOURS_PER_MONTH * 60) / 1e6) * PRICES.iotPerMillionConnectionMinutes },
    { item: 'Messaging, publishes and deliveries', usd: tiered(metered) },
  ]);
}

function tiered(messages: number): number {
  let usd = 0;
  let from = 0;
  for (const tier of PRICES.iotMessageTiers) {
    const inTier = Math.max(0, Math.min(messages, tier.upTo) - from);
    usd += (inTier / 1e6) * tier.perMillion;
    from = tier.upTo;
    if (messages <= tier.upTo) break;
  }
  return usd;
}

export interface Comparison {
  readonly service: string;
  /** No clients and no traffic, topics kept. */
  readonly idle: number;
  /** Added by one more GiB of messages at the workload's message size and rate. */
  readonly perGb: number;
  readonly perMillionMessages: number;
  readonly workload: number;
}

/** Idle, marginal and workload cost of each service; marginals hold the broker count of the workload fixed. */
export function compare(shape: Shape, w: Workload): Comparison[] {
  const brokers = brokersFor(shape, w);
  const traffic = (x: Workload) => trafficLines(shape, x, brokers).reduce((s, l) => s + l.usd, 0);
  const idleWorkload: Workload = { ...w, messagesPerMonth: 0, connections: 0 };
  const plusMessages = (n: number): Workload => ({ ...w, messagesPerMonth: w.messagesPerMonth + n });
  const perGbMessages = GIB / w.messageBytes;
  const marginal = (f: (x: Workload) => number) => ({
    perGb: f(plusMessages(perGbMessages)) - f(w),
    perMillionMessages: f(plusMessages(1e6)) - f(w),
  });
  return [
    { service: 'RobustMQ', idle: robustmqIdle(shape).total, ...marginal(traffic), workload: robustmq(shape, w).total },
    { service: 'Amazon MSK Serverless', idle: mskServerless(idleWorkload).total, ...marginal((x) => mskServerless(x).total), workload: mskServerless(w).total },
    { service: 'AWS IoT Core', idle: iotCore(idleWorkload).total, ...marginal((x) => iotCore(x).total), workload: iotCore(w).total },
  ];
}
