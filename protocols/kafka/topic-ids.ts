/**
 * Kafka topic ids (KIP-516). Topics here have no stored id, so one is derived from the name and creation time:
 * stable for the life of a topic, different for a re-created topic of the same name, never the zero UUID.
 */
import { createHash } from 'node:crypto';
import type { TopicRecord } from '../../runtime/meta/records.js';

export function topicIdOf(record: Pick<TopicRecord, 'name' | 'createdAt'>): string {
  return createHash('sha256').update(`${record.name}\u0000${record.createdAt}`).digest('hex').slice(0, 32);
}

export function topicByIdIn(records: readonly TopicRecord[], id: string): TopicRecord | undefined {
  return records.find((r) => topicIdOf(r) === id);
}
