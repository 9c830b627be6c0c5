/** `robustmq cluster status` and `robustmq client list`. */
import { Command } from 'commander';
import type { ClientInfo } from '../core/clients.js';
import { adminRequest, withAdmin } from './admin-client.js';
import { formatTable } from './table.js';

interface ClusterStatus {
  mode: string;
  meta: string;
  topics: number;
  defaultStorage: string;
  nodes: Array<{
    id: number;
    host: string;
    uptimeSeconds: number;
    connections: Record<string, number>;
    partitions: number;
    /** Cluster mode (runtime/cluster/status.ts). */
    brokerId?: string;
    state?: string;
    cpu?: number;
  }>;
  leaderless?: Array<{ topic: string; partition: number }>;
}

/** Cluster mode: one row per live broker with its id, state and load, then partitions without a live leader. */
function clusterTable(s: ClusterStatus): string {
  const rows = s.nodes.map((n) => [
    n.brokerId ?? '-', n.id, n.state ?? '-', n.host, `${n.uptimeSeconds}s`, n.connections.mqtt ?? 0, n.connections.kafka ?? 0, n.cpu ?? '-', n.partitions,
  ]);
  const leaderless = s.leaderless ?? [];
  const note = leaderless.length > 0 ? `\nWithout a live leader: ${leaderless.map((p) => `${p.topic}-${p.partition}`).join(', ')}` : '';
  return formatTable(['BROKER', 'NODE', 'STATE', 'HOST', 'UPTIME', 'MQTT', 'KAFKA', 'CPU', 'PARTITIONS'], rows) + note;
}

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('cluster information');
  withAdmin(cluster.command('status').description('show nodes, their connections and partitions')).action(
    async (opts: { admin: string; json?: boolean }) => {
      const s = await adminRequest<ClusterStatus>(opts.admin, 'GET', 'api/v1/cluster');
      const text = () =>
        `Mode: ${s.mode}  Meta: ${s.meta}  Topics: ${s.topics}  Default storage: ${s.defaultStorage}\n` +
        (s.mode === 'cluster' ? clusterTable(s) : '') +
        (s.mode === 'cluster' ? '' : formatTable(
          ['NODE', 'HOST', 'UPTIME', 'MQTT', 'KAFKA', 'PARTITIONS'],
          s.nodes.map((n) => [n.id, n.host, `${n.uptimeSeconds}s`, n.connections.mqtt ?? 0, n.connections.kafka ?? 0, n.partitions]),
        ));
      process.stdout.write(`${opts.json ? JSON.stringify(s, null, 2) : text()}\n`);
    },
  );
  return cluster;
}

export function clientCommand(): Command {
  const client = new Command('client').description('connected clients');
  withAdmin(client.command('list').description('list connected clients'))
    .option('--protocol <name>', 'only mqtt or kafka clients')
    .action(async (opts: { admin: string; json?: boolean; protocol?: string }) => {
      const query = opts.protocol ? `?protocol=${encodeURIComponent(opts.protocol)}` : '';
      const { clients } = await adminRequest<{ clients: ClientInfo[] }>(opts.admin, 'GET', `api/v1/clients${query}`);
      const text = () =>
        formatTable(
          ['CONNECTION', 'PROTOCOL', 'CLIENT-ID', 'REMOTE', 'CONNECTED'],
          clients.map((c) => [c.connectionId, c.protocol, c.clientId ?? '-', c.remoteAddress, new Date(c.connectedAt).toISOString()]),
        );
      process.stdout.write(`${opts.json ? JSON.stringify(clients, null, 2) : text()}\n`);
    });
  return client;
}
