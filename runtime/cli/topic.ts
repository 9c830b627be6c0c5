/**
 * `robustmq topic create|list|describe|update|delete`: through the admin API, or with --meta dynamodb on the
 * cluster's table directly (./direct.ts, ./direct-topics.ts; delete needs a broker, so not there).
 */
import { Command, InvalidArgumentError } from 'commander';
import { withOps, withTarget, type TopicView } from './ops.js';
import { formatTable, print } from './table.js';

export { withAdmin } from './admin-client.js';

interface Opts {
  json?: boolean;
}

const integer = (flag: string) => (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be an integer`);
  return Number(value);
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function retention(ms: number): string {
  return ms < 0 ? 'forever' : `${ms}ms`;
}

/** Messages kept, when the offsets are known (not in direct mode: only the brokers have the logs). */
function messages(t: TopicView): number | string {
  return t.partitionInfo ? t.partitionInfo.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0) : '-';
}

function describeText(t: TopicView): string {
  const head = [
    `Topic: ${t.name}`,
    `Partitions: ${t.partitions}  Storage: ${t.storage}  Retention: ${retention(t.retentionMs)}` +
      `${t.retentionBytes >= 0 ? ` / ${t.retentionBytes} bytes` : ''}${t.flush ? `  Flush: ${t.flush}` : ''}`,
    `MQTT bindings: ${t.mqttBindings.length > 0 ? t.mqttBindings.join(', ') : '(none)'}`,
  ];
  const rows = t.partitionInfo
    ? t.partitionInfo.map((p) => [p.partition, p.logStartOffset, p.highWatermark, p.sizeBytes])
    : Array.from({ length: t.partitions }, (_, p) => [p, '-', '-', '-']);
  return `${head.join('\n')}\n${formatTable(['PARTITION', 'LOG-START', 'HIGH-WATERMARK', 'BYTES'], rows)}`;
}

export function topicCommand(): Command {
  const topic = new Command('topic').description(
    "create, list, describe, update and delete topics, through the admin API or, with --meta dynamodb, in the cluster's table",
  );

  withTarget(topic.command('create <name>').description('create a topic'))
    .option('-p, --partitions <n>', 'number of partitions (with --meta default 1, not the brokers\' --default-partitions)', integer('--partitions'))
    .option('--storage <engine>', "storage engine: memory, segment or s3 (default: the node's --storage; required with --meta)")
    .option('--retention-ms <ms>', 'retention time in ms, -1 = forever', integer('--retention-ms'))
    .option('--retention-bytes <bytes>', 'retention size per partition, -1 = unlimited', integer('--retention-bytes'))
    .option('--flush <policy>', 'durability policy: always, os or interval:MS')
    .option('--mqtt <filter>', 'bind an MQTT topic filter (repeatable)', collect)
    .action(async (name: string, opts: Opts & Record<string, unknown>, cmd: Command) => {
      const body = {
        name,
        partitions: opts.partitions,
        storage: opts.storage,
        retentionMs: opts.retentionMs,
        retentionBytes: opts.retentionBytes,
        flush: opts.flush,
        mqttBindings: opts.mqtt,
      };
      const t = await withOps(cmd, (ops) => ops.createTopic(body));
      print(opts, t, () => `Created topic "${t.name}" with ${t.partitions} partition(s) on ${t.storage} storage.`);
    });

  withTarget(topic.command('list').description('list topics')).action(async (opts: Opts, cmd: Command) => {
    const { topics } = await withOps(cmd, (ops) => ops.listTopics());
    print(opts, topics, () =>
      formatTable(
        ['NAME', 'PARTITIONS', 'STORAGE', 'RETENTION', 'MESSAGES', 'MQTT'],
        topics.map((t) => [t.name, t.partitions, t.storage, retention(t.retentionMs), messages(t), t.mqttBindings.join(',') || '-']),
      ),
    );
  });

  withTarget(topic.command('describe <name>').description('show a topic with its partitions and offsets (offsets: not with --meta)')).action(
    async (name: string, opts: Opts, cmd: Command) => {
      const t = await withOps(cmd, (ops) => ops.describeTopic(name));
      print(opts, t, () => describeText(t));
    },
  );

  withTarget(topic.command('update <name>').description('change partitions, retention, flush or MQTT bindings'))
    .option('-p, --partitions <n>', 'grow to this many partitions', integer('--partitions'))
    .option('--retention-ms <ms>', 'retention time in ms, -1 = forever', integer('--retention-ms'))
    .option('--retention-bytes <bytes>', 'retention size per partition, -1 = unlimited', integer('--retention-bytes'))
    .option('--flush <policy>', 'durability policy: always, os or interval:MS')
    .option('--mqtt <filter>', 'replace the MQTT bindings with these filters (repeatable)', collect)
    .action(async (name: string, opts: Opts & Record<string, unknown>, cmd: Command) => {
      const body = {
        partitions: opts.partitions,
        retentionMs: opts.retentionMs,
        retentionBytes: opts.retentionBytes,
        flush: opts.flush,
        mqttBindings: opts.mqtt,
      };
      const t = await withOps(cmd, (ops) => ops.updateTopic(name, body));
      print(opts, t, () => describeText(t));
    });

  withTarget(topic.command('delete <name>').description('delete a topic and its data (not with --meta: only a broker can drop the data)')).action(
    async (name: string, opts: Opts, cmd: Command) => {
      await withOps(cmd, (ops) => ops.deleteTopic(name));
      print(opts, { deleted: name }, () => `Deleted topic "${name}".`);
    },
  );
  return topic;
}
