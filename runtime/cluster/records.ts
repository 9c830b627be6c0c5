/**
 * What the cluster keeps in the MetaStore, and its keys.
 *
 * - 'brokers', key = broker id: the membership lease (a TTL entry renewed by the broker's heartbeat). Its value is
 *   a superset of the scheduler's `BrokerLease` (runtime/scheduler/leases.ts), so the scaling Lambda reads the same
 *   entries.
 * - 'partitions', key = `<topic>/<partition>`: the partition's leader and its fencing epoch, bumped on every
 *   change of leader. Topic names cannot contain `/` (topic-names.ts), so the key splits unambiguously.
 */
import { crc32 } from '@node-rs/crc32';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The value of a broker's membership lease. */
export interface BrokerLeaseValue {
  readonly id: string;
  /** Kafka node id, unique in the cluster. */
  readonly nodeId: number;
  /** Address other brokers and the scheduler reach it at (the internal host). */
  readonly host: string;
  /** Where Kafka clients reach this broker when Metadata lists every broker (no --advertised-host). */
  readonly kafka: Endpoint;
  /** The broker-to-broker listener. */
  readonly internal: Endpoint;
  /** The broker-to-broker MQTT forwarding listener (runtime/cluster/mqtt-link.ts); absent when MQTT is off. */
  readonly mqttInternal?: Endpoint;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  /** Open client connections by protocol, at the last heartbeat. */
  readonly connections: Record<string, number>;
  /** Epoch ms of the latest client activity this broker saw (the start time until then). */
  readonly lastActivityAt: number;
  /** Partitions this broker led at the last heartbeat. */
  readonly partitions: number;
  /** Process CPU use over the last heartbeat interval, 0..1 per vCPU. */
  readonly cpu?: number;
  /** Set while the broker hands its partitions over before exiting: it gets no new ones. */
  readonly draining?: boolean;
}

/** The value of a partition's leadership entry. */
export interface PartitionLeader {
  readonly topic: string;
  readonly partition: number;
  /** Broker id of the leader; null when no broker was live to take it. */
  readonly leader: string | null;
  /** Fencing epoch: grows by one on every change of leader. */
  readonly epoch: number;
  /** Epoch ms of the last change of leader. */
  readonly since: number;
  /** A move asked of the live leader: it stops serving, then writes `leader = handoffTo` with the next epoch. */
  readonly handoffTo?: string;
  readonly handoffAt?: number;
}

export function leaderKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function parseLeaderKey(key: string): { topic: string; partition: number } | undefined {
  const slash = key.lastIndexOf('/');
  const partition = Number(key.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(partition) || partition < 0) return undefined;
  return { topic: key.slice(0, slash), partition };
}

/** The broker id itself when it is a number Kafka accepts as a node id, else a 31-bit hash of it (never 0). */
export function nodeIdOf(brokerId: string): number {
  if (/^[1-9]\d{0,9}$/.test(brokerId) && Number(brokerId) <= 2_147_483_647) return Number(brokerId);
  return (crc32(brokerId) % 2_147_483_646) + 1;
}

/** Brokers whose lease was written and has not expired by `now` (stores filter, but DynamoDB's clock is not ours). */
export function isLive(entry: { expiresAt?: number }, now: number): boolean {
  return entry.expiresAt === undefined || entry.expiresAt > now;
}
