/**
 * What makes a topic definition valid, as one pure function: the TopicManager (admin API, Kafka CreateTopics,
 * auto-creation) and the CLI writing straight to a cluster's MetaStore (`robustmq topic create --meta dynamodb`)
 * both turn a spec into the stored TopicRecord here, so the two paths accept and store exactly the same topics.
 */
import { RobustMQError } from '../errors.js';
import type { TopicRecord } from '../meta/records.js';
import type { StorageKind } from '../storage/engine.js';
import { parseFlushPolicy } from '../storage/flush.js';
import { assertTopicName, mqttFilterError } from './topic-names.js';
import type { CreateTopicSpec } from './topics.js';

export const MAX_PARTITIONS = 10_000;

/** What a spec that leaves a field out gets (the node's --storage, --default-partitions, --retention-*). */
export interface TopicSpecDefaults {
  readonly storage: StorageKind;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly retentionBytes: number;
}

export function engineUnavailable(kind: StorageKind, available: readonly string[]): RobustMQError {
  return new RobustMQError('INVALID_ARGUMENT', `storage engine "${kind}" is not available on this node (available: ${available.join(', ')})`);
}

/**
 * Validates a spec and returns the record to store. `engines`: the storage engines a new topic may use; omitted
 * for a topic that exists already (its engine was checked when it was created).
 */
export function topicRecordOf(spec: CreateTopicSpec, defaults: TopicSpecDefaults, engines?: readonly StorageKind[]): TopicRecord {
  assertTopicName(spec.name);
  const partitions = spec.partitions ?? defaults.partitions;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new RobustMQError('INVALID_ARGUMENT', `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
  const storage = spec.storage ?? defaults.storage;
  if (engines !== undefined && !engines.includes(storage)) throw engineUnavailable(storage, engines);
  const retentionMs = spec.retentionMs ?? defaults.retentionMs;
  const retentionBytes = spec.retentionBytes ?? defaults.retentionBytes;
  for (const [field, value] of [['retentionMs', retentionMs], ['retentionBytes', retentionBytes]] as const) {
    if (!Number.isSafeInteger(value) || (value < 0 && value !== -1)) {
      throw new RobustMQError('INVALID_ARGUMENT', `${field} must be -1 (unlimited) or a non-negative integer, got ${value}`);
    }
  }
  if (spec.flush !== undefined) parseFlushPolicy(spec.flush);
  const bindings = spec.mqttBindings ?? [];
  for (const filter of bindings) {
    const problem = typeof filter === 'string' ? mqttFilterError(filter) : 'MQTT filter must be a string';
    if (problem) throw new RobustMQError('INVALID_ARGUMENT', `invalid MQTT binding "${String(filter)}": ${problem}`);
  }
  return {
    name: spec.name,
    partitions,
    storage,
    retentionMs,
    retentionBytes,
    cleanupPolicy: 'delete',
    ...(spec.flush !== undefined ? { flush: spec.flush } : {}),
    mqttBindings: [...new Set(bindings)],
    createdAt: (spec as Partial<TopicRecord>).createdAt ?? Date.now(),
    configs: { ...(spec.configs ?? {}) },
  };
}

/** Kafka CreatePartitions: partitions can only be added. */
export function checkPartitionGrowth(current: number, total: number): void {
  if (!Number.isInteger(total) || total <= current || total > MAX_PARTITIONS) {
    throw new RobustMQError('INVALID_ARGUMENT', `partition count must grow from ${current} to at most ${MAX_PARTITIONS}, got ${total}`);
  }
}
