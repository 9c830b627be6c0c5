/**
 * Broker leases: each broker keeps one entry in the MetaStore namespace `brokers`, keyed by its broker id and
 * written with a TTL (the lease), refreshed by its heartbeat. The value carries the broker's address and the load
 * it reports, which the scheduler turns into scaling decisions. An expired lease is a dead broker.
 */
import { z } from 'zod';
import type { Entry, MetaStore } from '../meta/store.js';

const count = z.number().int().min(0);

export const brokerLeaseSchema = z.object({
  /** The broker's id, equal to the entry key. */
  id: z.string().min(1),
  /** Address other brokers and the scheduler reach it at. */
  host: z.string().min(1),
  startedAt: z.number().int().min(0),
  heartbeatAt: z.number().int().min(0),
  /** Open client connections by protocol, at the last heartbeat. */
  connections: z.record(z.string(), count).default({}),
  /** When a client last connected, published or fetched (epoch ms); the start time until then. */
  lastActivityAt: z.number().int().min(0),
  /** Process CPU use over the last heartbeat interval, 0..1 per vCPU. */
  cpu: z.number().min(0).optional(),
});

export type BrokerLease = z.output<typeof brokerLeaseSchema>;
export type BrokerLeaseInput = z.input<typeof brokerLeaseSchema>;

export interface LeaseRead {
  /** Leases that are unexpired and well-formed, in key order. */
  readonly live: BrokerLease[];
  /** Keys of entries that did not parse as a lease (a broker of another version, or a bug). */
  readonly malformed: string[];
}

export function totalConnections(lease: BrokerLease): number {
  return Object.values(lease.connections).reduce((sum, n) => sum + n, 0);
}

/**
 * Reads the live broker leases. Stores hide expired entries themselves; DynamoDB deletes expired items only
 * eventually, so the expiry is checked here again against `now`.
 */
export async function readBrokerLeases(meta: MetaStore, now: number): Promise<LeaseRead> {
  const entries = await meta.list<unknown>('brokers');
  const live: BrokerLease[] = [];
  const malformed: string[] = [];
  for (const entry of entries) {
    if (isExpired(entry, now)) continue;
    const parsed = brokerLeaseSchema.safeParse(entry.value);
    if (parsed.success && parsed.data.id === entry.key) live.push(parsed.data);
    else malformed.push(entry.key);
  }
  return { live, malformed };
}

function isExpired(entry: Entry<unknown>, now: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= now;
}
