/** `robustmq topic create|list|describe|delete|update`, talking to the admin API. */
import { Command, InvalidArgumentError } from 'commander';
import type { TopicDescription } from '../core/topics.js';
import { adminRequest, DEFAULT_ADMIN_URL } from './admin-client.js';
import { formatTable } from './table.js';

interface AdminOpts {
  admin: string;
  json?: boolean;
}

const integer = (flag: string) => (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be an integer`);
  return Number(value);
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function withAdmin(cmd: Command): Command {
  return cmd
    .option('--admin <url>', 'admin API base URL (env ROBUSTMQ_ADMIN)', process.env.ROBUSTMQ_ADMIN ?? DEFAULT_ADMIN_URL)
    .option('--json', 'print JSON instead of a table');
}

function print(opts: AdminOpts, json: unknown, text: () => string): void {
  process.stdout.write(`${opts.json ? JSON.stringify(json, null, 2) : text()}\n`);
}

function retention(ms: number): string {
  return ms < 0 ? 'forever' : `${ms}ms`;
}

function describeText(t: TopicDescription): string {
  const head = [
    `Topic: ${t.name}`,
    `Partitions: ${t.partitions}  Storage: ${t.storage}  Retention: ${retention(t.retentionMs)}` +
      `${t.retentionBytes >= 0 ? ` / ${t.retentionBytes} bytes` : ''}${t.flush ? `  Flush: ${t.flush}` : ''}`,
    `MQTT bindings: ${t.mqttBindings.length > 0 ? t.mqttBindings.join(', ') : '(none)'}`,
  ];
  const rows = t.partitionInfo.map((p) => [p.partition, p.logStartOffset, p.highWatermark, p.sizeBytes]);
  return `${head.join('\n')}\n${formatTable(['PARTITION', 'LOG-START', 'HIGH-WATERMARK', 'BYTES'], rows)}`;
}

export function topicCommand(): Command {
  const topic = new Command('topic').description('create, list, describe, update and delete topics');

  withAdmin(topic.command('create <name>').description('create a topic'))
    .option('-p, --partitions <n>', 'number of partitions', integer('--partitions'))
    .option('--storage <engine>', 'storage engine: memory, segment or s3 (default: the node\'s --storage)')
    .option('--retention-ms <ms>', 'retention time in ms, -1 = forever', integer('--retention-ms'))
    .option('--retention-bytes <bytes>', 'retention size per partition, -1 = unlimited', integer('--retention-bytes'))
    .option('--flush <policy>', 'durability policy: always, os or interval:MS')
    .option('--mqtt <filter>', 'bind an MQTT topic filter (repeatable)', collect)
    .action(async (name: string, opts: AdminOpts & Record<string, unknown>) => {
      const body = {
        name,
        partitions: opts.partitions,
        storage: opts.storage,
        retentionMs: opts.retentionMs,
        retentionBytes: opts.retentionBytes,
        flush: opts.flush,
        mqttBindings: opts.mqtt,
      };
      const t = await adminRequest<TopicDescription>(opts.admin, 'POST', 'api/v1/topics', body);
      print(opts, t, () => `Created topic "${t.name}" with ${t.partitions} partition(s) on ${t.storage} storage.`);
    });

  withAdmin(topic.command('list').description('list topics')).action(async (opts: AdminOpts) => {
    const { topics } = await adminRequest<{ topics: TopicDescription[] }>(opts.admin, 'GET', 'api/v1/topics');
    print(opts, topics, () =>
      formatTable(
        ['NAME', 'PARTITIONS', 'STORAGE', 'RETENTION', 'MESSAGES', 'MQTT'],
        topics.map((t) => [
          t.name,
          t.partitions,
          t.storage,
          retention(t.retentionMs),
          t.partitionInfo.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0),
          t.mqttBindings.join(',') || '-',
        ]),
      ),
    );
  });

  withAdmin(topic.command('describe <name>').description('show a topic with its partitions and offsets')).action(
    async (name: string, opts: AdminOpts) => {
      const t = await adminRequest<TopicDescription>(opts.admin, 'GET', `api/v1/topics/${encodeURIComponent(name)}`);
      print(opts, t, () => describeText(t));
    },
  );

  withAdmin(topic.command('update <name>').description('change partitions, retention, flush or MQTT bindings'))
    .option('-p, --partitions <n>', 'grow to this many partitions', integer('--partitions'))
    .option('--retention-ms <ms>', 'retention time in ms, -1 = forever', integer('--retention-ms'))
    .option('--retention-bytes <bytes>', 'retention size per partition, -1 = unlimited', integer('--retention-bytes'))
    .option('--flush <policy>', 'durability policy: always, os or interval:MS')
    .option('--mqtt <filter>', 'replace the MQTT bindings with these filters (repeatable)', collect)
    .action(async (name: string, opts: AdminOpts & Record<string, unknown>) => {
      const body = {
        partitions: opts.partitions,
        retentionMs: opts.retentionMs,
        retentionBytes: opts.retentionBytes,
        flush: opts.flush,
        mqttBindings: opts.mqtt,
      };
      const t = await adminRequest<TopicDescription>(opts.admin, 'PATCH', `api/v1/topics/${encodeURIComponent(name)}`, body);
      print(opts, t, () => describeText(t));
    });

  withAdmin(topic.command('delete <name>').description('delete a topic and its data')).action(
    async (name: string, opts: AdminOpts) => {
      await adminRequest(opts.admin, 'DELETE', `api/v1/topics/${encodeURIComponent(name)}`);
      print(opts, { deleted: name }, () => `Deleted topic "${name}".`);
    },
  );
  return topic;
}
