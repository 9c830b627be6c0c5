/**
 * Kafka topic configs ↔ topic records. retention.ms, retention.bytes and cleanup.policy map to TopicRecord fields
 * (so retention is enforced); other keys are kept in `configs` verbatim and described back. Log compaction is not
 * implemented, so cleanup.policy accepts only "delete".
 */
import type { TopicUpdate } from '../../runtime/core/topics.js';
import { RobustMQError } from '../../runtime/errors.js';
import type { TopicRecord } from '../../runtime/meta/records.js';

export type ConfigSource = 'topic' | 'default';

export interface ConfigEntry {
  name: string;
  value: string;
  source: ConfigSource;
  readOnly: boolean;
}

export interface TopicConfigDefaults {
  retentionMs: number;
  retentionBytes: number;
  maxMessageBytes: number;
}

/** The configs of a topic as DescribeConfigs reports them. */
export function describeTopicConfigs(record: TopicRecord, defaults: TopicConfigDefaults): ConfigEntry[] {
  const entries: ConfigEntry[] = [
    entry('cleanup.policy', record.cleanupPolicy, 'default'),
    entry('retention.ms', String(record.retentionMs), record.retentionMs === defaults.retentionMs ? 'default' : 'topic'),
    entry('retention.bytes', String(record.retentionBytes), record.retentionBytes === defaults.retentionBytes ? 'default' : 'topic'),
    { ...entry('max.message.bytes', String(defaults.maxMessageBytes), 'default'), readOnly: true },
    { ...entry('message.timestamp.type', 'CreateTime', 'default'), readOnly: true },
  ];
  const known = new Set(entries.map((e) => e.name));
  for (const [name, value] of Object.entries(record.configs)) if (!known.has(name)) entries.push(entry(name, value, 'topic'));
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

function entry(name: string, value: string, source: ConfigSource): ConfigEntry {
  return { name, value, source, readOnly: false };
}

const READ_ONLY = new Set(['max.message.bytes', 'message.timestamp.type']);

function parseLimit(name: string, value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < -1) {
    throw new RobustMQError('INVALID_ARGUMENT', `${name} must be -1 or a non-negative integer, got "${value}"`);
  }
  return n;
}

/**
 * The topic update for a set of config changes: a value sets the key, null resets it to the broker default.
 * Throws INVALID_ARGUMENT naming the bad key.
 */
export function topicUpdateFor(
  current: TopicRecord,
  changes: ReadonlyArray<{ name: string; value: string | null }>,
  defaults: TopicConfigDefaults,
): TopicUpdate {
  const update: TopicUpdate = {};
  const configs = { ...current.configs };
  for (const { name, value } of changes) {
    if (READ_ONLY.has(name)) throw new RobustMQError('INVALID_ARGUMENT', `${name} cannot be changed on this broker`);
    switch (name) {
      case 'retention.ms':
        update.retentionMs = value === null ? defaults.retentionMs : parseLimit(name, value);
        break;
      case 'retention.bytes':
        update.retentionBytes = value === null ? defaults.retentionBytes : parseLimit(name, value);
        break;
      case 'cleanup.policy':
        if (value !== null && value.trim() !== 'delete') {
          throw new RobustMQError('INVALID_ARGUMENT', `cleanup.policy "${value}" is not supported (only "delete"; no log compaction)`);
        }
        break;
      default:
        if (!/^[a-z0-9._-]+$/i.test(name)) throw new RobustMQError('INVALID_ARGUMENT', `invalid config name "${name}"`);
        if (value === null) delete configs[name];
        else configs[name] = value;
    }
  }
  update.configs = configs;
  return update;
}

/** Every topic-level setting back to its default (AlterConfigs replaces the whole set). */
export function resetTopicConfigs(defaults: TopicConfigDefaults): TopicUpdate {
  return { retentionMs: defaults.retentionMs, retentionBytes: defaults.retentionBytes, configs: {} };
}
