/** Typed records kept in the MetaStore, and their keys. */
import type { StorageKind } from '../storage/engine.js';

export interface TopicRecord {
  name: string;
  partitions: number;
  storage: StorageKind;
  /** -1 = keep forever. */
  retentionMs: number;
  /** -1 = unbounded. */
  retentionBytes: number;
  cleanupPolicy: 'delete';
  /** Durability policy for persistent engines, e.g. `always`, `interval:1000`, `os`; undefined = engine default. */
  flush?: string;
  /** MQTT topic filters bound to this topic (cross-protocol topics). */
  mqttBindings: string[];
  createdAt: number;
  /** Kafka topic configs set through AlterConfigs that have no dedicated field. */
  configs: Record<string, string>;
}

export interface GroupOffsetRecord {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export const groupOffsetKey = (group: string, topic: string, partition: number): string =>
  `${group}\u0000${topic}\u0000${partition}`;
