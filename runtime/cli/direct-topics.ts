/**
 * Topics written straight to a cluster's MetaStore (`robustmq topic ... --meta dynamodb`). The record is the one
 * the TopicManager writes, validated by the same code (parseTopicCreate / parseTopicUpdate for the body,
 * topicRecordOf and checkPartitionGrowth for the rules). Cluster brokers take it in on their next topic sync
 * (runtime/cluster/broker.ts) and the scheduler gives its partitions leaders (runtime/cluster/planner.ts).
 *
 * What the table cannot tell: the brokers' defaults and which engines they run (s3 needs their --s3-bucket). So a
 * new topic names its engine (--storage, any the build has), and fields left out take the built-in defaults.
 */
import { parseTopicCreate, parseTopicUpdate } from '../admin/topics-api.js';
import { nodeConfigSchema } from '../config/schema.js';
import { checkPartitionGrowth, topicRecordOf, type TopicSpecDefaults } from '../core/topic-spec.js';
import { RobustMQError } from '../errors.js';
import type { TopicRecord } from '../meta/records.js';
import type { MetaStore } from '../meta/store.js';
import { STORAGE_KINDS } from '../storage/engine.js';

/** A node's topic defaults when nothing is configured (--default-partitions, --retention-ms, --retention-bytes). */
export function builtInTopicDefaults(): TopicSpecDefaults {
  const d = nodeConfigSchema.parse({});
  return { storage: d.storage, partitions: d.defaultPartitions, retentionMs: d.retentionMs, retentionBytes: d.retentionBytes };
}

export async function createTopicRecord(meta: MetaStore, body: unknown): Promise<TopicRecord> {
  const spec = parseTopicCreate(body);
  if (spec.storage === undefined) {
    throw new RobustMQError('INVALID_ARGUMENT', `give --storage (${STORAGE_KINDS.join(', ')}): the brokers' default engine is not recorded in the table`);
  }
  const record = topicRecordOf(spec, builtInTopicDefaults(), STORAGE_KINDS);
  try {
    await meta.put('topics', record.name, record, { expectedVersion: 0 });
  } catch (err) {
    if (err instanceof RobustMQError && err.code === 'CONFLICT') throw new RobustMQError('ALREADY_EXISTS', `topic "${record.name}" already exists`);
    throw err;
  }
  return record;
}

export async function listTopicRecords(meta: MetaStore): Promise<TopicRecord[]> {
  const entries = await meta.list<TopicRecord>('topics');
  return entries.map((e) => e.value).sort((a, b) => a.name.localeCompare(b.name));
}

export async function getTopicRecord(meta: MetaStore, name: string): Promise<TopicRecord> {
  return (await current(meta, name)).value;
}

/** As the admin API's PATCH: grow partitions (never shrink), replace retention, flush or MQTT bindings. */
export async function updateTopicRecord(meta: MetaStore, name: string, body: unknown): Promise<TopicRecord> {
  const { partitions, ...rest } = parseTopicUpdate(body);
  const entry = await current(meta, name);
  const record = entry.value;
  if (partitions !== undefined && partitions !== record.partitions) checkPartitionGrowth(record.partitions, partitions);
  const next = topicRecordOf({ ...record, ...rest, partitions: partitions ?? record.partitions }, builtInTopicDefaults());
  if (JSON.stringify(next) === JSON.stringify(record)) return record;
  try {
    await meta.put('topics', name, next, { expectedVersion: entry.version });
  } catch (err) {
    if (err instanceof RobustMQError && err.code === 'CONFLICT') throw new RobustMQError('CONFLICT', `topic "${name}" changed meanwhile: run the command again`);
    throw err;
  }
  return next;
}

async function current(meta: MetaStore, name: string) {
  const entry = typeof name === 'string' && name.length > 0 ? await meta.get<TopicRecord>('topics', name) : undefined;
  if (!entry) throw new RobustMQError('NOT_FOUND', `unknown topic "${name}"`);
  return entry;
}
