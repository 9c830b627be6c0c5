/** Who a cluster broker is: its id, Kafka node id, the address peers reach it at, and how Kafka advertises it. */
import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { NodeConfig } from '../config/schema.js';
import { nodeIdOf } from './records.js';

export interface ClusterIdentity {
  readonly brokerId: string;
  readonly nodeId: number;
  readonly internalHost: string;
  readonly advertise: 'single' | 'brokers';
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The first non-internal IPv4 address of this machine (a container's or task's own), else loopback. */
export function firstIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    // Link-local addresses (169.254/16, e.g. instance metadata interfaces) are not reachable from other hosts.
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
  }
  return '127.0.0.1';
}

export function defaultBrokerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 100) || 'broker';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

export function clusterIdentity(config: NodeConfig): ClusterIdentity {
  const brokerId = config.brokerId ?? defaultBrokerId();
  return {
    brokerId,
    nodeId: config.nodeId ?? nodeIdOf(brokerId),
    internalHost: config.internalHost ?? (WILDCARDS.has(config.host) ? firstIPv4() : config.host),
    advertise: config.advertisedHost === undefined ? 'brokers' : 'single',
  };
}
