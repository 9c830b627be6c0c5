/**
 * `robustmq cost`: what the AWS deployment (infra/, `npx cdk deploy`) costs a month at idle, per GiB and per
 * million messages, and for a stated workload, beside Amazon MSK Serverless and AWS IoT Core. Prices and the
 * model are in cost-model.ts, dated.
 */
import { Command, InvalidArgumentError } from 'commander';
import {
  brokersFor,
  compare,
  mskServerless,
  iotCore,
  PRICE_REGION,
  PRICES_AS_OF,
  robustmq,
  robustmqIdle,
  type Estimate,
  type Shape,
  type Workload,
} from './cost-model.js';
import { formatTable } from './table.js';

const number = (flag: string, min: number, max = Infinity, integer = false) => (value: string): number => {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(`${flag} must be ${integer ? 'an integer' : 'a number'} ${range}`);
  }
  return n;
};

interface CostOptions {
  minBrokers: number;
  metaService: boolean;
  maxBrokers: number;
  cpu: number;
  memory: number;
  flushMs: number;
  connectionsPerBroker: number;
  brokerRate: number;
  messages: number;
  messageBytes: number;
  fanOut: number;
  connections: number;
  partitions: number;
  retentionDays: number;
  internetShare: number;
  json?: boolean;
}

export function costCommand(): Command {
  return new Command('cost')
    .description(`monthly cost of the AWS deployment (npx cdk deploy) beside MSK Serverless and IoT Core (${PRICE_REGION} list prices of ${PRICES_AS_OF})`)
    .option('--no-meta-service', 'leave out the one-task meta service (the stack prop schedulerService=false)')
    .option('--min-brokers <n>', 'brokers kept running (the stack prop minBrokers)', number('--min-brokers', 0, 1000, true), 1)
    .option('--max-brokers <n>', 'most brokers (maxBrokers)', number('--max-brokers', 1, 1000, true), 4)
    .option('--cpu <vcpu>', 'vCPU per broker task', number('--cpu', 0.25, 16), 0.25)
    .option('--memory <gb>', 'memory per broker task, GB', number('--memory', 0.5, 120), 0.5)
    .option('--flush-ms <ms>', 'S3 flush interval (flushInterval)', number('--flush-ms', 1, 60_000), 250)
    .option('--connections-per-broker <n>', 'connections a broker is sized for', number('--connections-per-broker', 1, 1e7, true), 5000)
    .option('--broker-rate <msgs>', 'messages/s one broker handles (an assumption: use your own measurement)', number('--broker-rate', 1), 2000)
    .option('--messages <n>', 'messages published per month', number('--messages', 0), 10_000_000)
    .option('--message-bytes <n>', 'average message size, bytes', number('--message-bytes', 1, 100 * 1024 * 1024, true), 1024)
    .option('--fan-out <n>', 'deliveries per message', number('--fan-out', 0), 1)
    .option('--connections <n>', 'client connections held all month', number('--connections', 0, 1e9, true), 1000)
    .option('--partitions <n>', 'Kafka partitions (MSK partition hours)', number('--partitions', 1, 1e6, true), 10)
    .option('--retention-days <n>', 'retention', number('--retention-days', 0, 3650), 7)
    .option('--internet-share <0..1>', 'share of delivered bytes that leave AWS for the internet', number('--internet-share', 0, 1), 1)
    .option('--json', 'print JSON')
    .action((opts: CostOptions) => {
      if (opts.minBrokers > opts.maxBrokers) throw new InvalidArgumentError('--min-brokers must not exceed --max-brokers');
      const shape: Shape = {
        metaService: opts.metaService,
        minBrokers: opts.minBrokers,
        maxBrokers: opts.maxBrokers,
        vcpu: opts.cpu,
        memoryGb: opts.memory,
        zones: 2,
        flushMs: opts.flushMs,
        flushBytes: 8 * 1024 * 1024,
        connectionsPerBroker: opts.connectionsPerBroker,
        brokerMessagesPerSecond: opts.brokerRate,
        polledNamespaces: 3,
      };
      const workload: Workload = {
        messagesPerMonth: opts.messages,
        messageBytes: opts.messageBytes,
        fanOut: opts.fanOut,
        connections: opts.connections,
        partitions: opts.partitions,
        retentionDays: opts.retentionDays,
        internetShare: opts.internetShare,
      };
      const report = costReport(shape, workload);
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(shape, workload, report));
    });
}

export interface CostReport {
  readonly pricesAsOf: string;
  readonly region: string;
  readonly brokersAtWorkload: number;
  readonly idle: Estimate;
  readonly workload: Estimate[];
  readonly comparison: ReturnType<typeof compare>;
}

export function costReport(shape: Shape, workload: Workload): CostReport {
  return {
    pricesAsOf: PRICES_AS_OF,
    region: PRICE_REGION,
    brokersAtWorkload: brokersFor(shape, workload),
    idle: robustmqIdle(shape),
    workload: [robustmq(shape, workload), mskServerless(workload), iotCore(workload)],
    comparison: compare(shape, workload),
  };
}

const usd = (n: number): string => n.toFixed(2);
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

function lines(e: Estimate): string {
  return formatTable(['ITEM', 'USD/MONTH'], [...e.lines.map((l) => [l.item, usd(l.usd)]), ['Total', usd(e.total)]]);
}

export function formatReport(shape: Shape, w: Workload, r: CostReport): string {
  const gib = (w.messagesPerMonth * w.messageBytes) / 1024 ** 3;
  const out = [
    `RobustMQ on AWS, monthly cost from ${r.region} on-demand list prices of ${r.pricesAsOf} (no free tier, before tax).`,
    `Shape: ${shape.minBrokers}-${shape.maxBrokers} Fargate ARM64 brokers of ${shape.vcpu} vCPU / ${shape.memoryGb} GB, a network load balancer in ${shape.zones} zones,`,
    `S3 and DynamoDB on demand, scheduler every minute. Check current prices at aws.amazon.com/pricing.`,
    '',
    `At idle (${shape.minBrokers} broker(s), no clients):`,
    lines(r.idle),
    '',
    `Workload: ${count(w.messagesPerMonth)} messages of ${count(w.messageBytes)} B (${gib.toFixed(2)} GiB) a month, fan-out ${w.fanOut},`,
    `${count(w.connections)} connections, ${w.partitions} partitions, ${w.retentionDays}-day retention, ${Math.round(w.internetShare * 100)}% of deliveries to the internet;`,
    `RobustMQ runs ${r.brokersAtWorkload} broker(s) for it.`,
    formatTable(
      ['SERVICE', 'IDLE', 'PER GIB', 'PER 1M MSGS', 'WORKLOAD'],
      r.comparison.map((c) => [c.service, usd(c.idle), usd(c.perGb), usd(c.perMillionMessages), usd(c.workload)]),
    ),
    '',
    'Per GiB and per million messages: what one more of each adds at this workload (RobustMQ: broker count held).',
    'MSK Serverless speaks Kafka only and its clients must be in a VPC (no internet transfer counted for it);',
    'IoT Core speaks MQTT only. Details of the workload estimates:',
    '',
    ...r.workload.flatMap((e) => [`${e.service}:`, lines(e), '']),
  ];
  return `${out.join('\n')}`;
}
