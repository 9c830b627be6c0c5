/**
 * The Kafka listener: accepts TCP connections on `kafkaPort`, registers each in the node's client registry and
 * hands it to a KafkaConnection. Node-wide Kafka state (API table, cluster id, shared services) lives in one
 * KafkaNode per server.
 */
import net from 'node:net';
import type { BrokerContext, ProtocolServer } from '../../runtime/context.js';
import { KAFKA_APIS } from './apis/index.js';
import type { BrokerEndpoint } from './apis/types.js';
import { loadClusterId } from './cluster-id.js';
import { KafkaConnection } from './connection.js';
import { KafkaNode } from './node.js';

/** Single-node broker id. */
export const NODE_ID = 0;

/** `::ffff:127.0.0.1` → `127.0.0.1`; other IPv6 addresses as they are. */
function plainAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function createKafkaServer(ctx: BrokerContext): ProtocolServer {
  const log = ctx.log.child({ protocol: 'kafka' });
  const server = net.createServer();
  const connections = new Set<KafkaConnection>();
  const stopping = new AbortController();
  let node: KafkaNode | undefined;

  const endpointFor = (socket: net.Socket): BrokerEndpoint => ({
    nodeId: NODE_ID,
    host: ctx.config.advertisedHost ?? plainAddress(socket.localAddress),
    port: ctx.config.advertisedPort ?? socket.localPort ?? ctx.config.kafkaPort,
    rack: null,
  });

  server.on('connection', (socket) => {
    if (!node || stopping.signal.aborted) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const remoteAddress = `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
    const client = ctx.clients.add({ protocol: 'kafka', remoteAddress });
    const conn = new KafkaConnection(socket, {
      broker: ctx,
      kafka: node,
      info: { id: client.connectionId, remoteAddress, endpoint: endpointFor(socket) },
      client,
      log: log.child({ conn: client.connectionId }),
      maxFrameBytes: ctx.config.kafkaMaxRequestBytes,
      serverSignal: stopping.signal,
    });
    connections.add(conn);
    ctx.metrics.connections.inc({ protocol: 'kafka' });
    conn.onClosed(() => {
      connections.delete(conn);
      ctx.clients.remove(client.connectionId);
      ctx.metrics.connections.dec({ protocol: 'kafka' });
    });
  });
  server.on('error', (err) => log.error({ err }, 'kafka listener error'));

  return {
    name: 'kafka',
    async listen() {
      node = new KafkaNode(NODE_ID, await loadClusterId(ctx.meta), KAFKA_APIS);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(ctx.config.kafkaPort, ctx.config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const port = (server.address() as net.AddressInfo).port;
      log.info({ port, host: ctx.config.host }, 'kafka listener started');
      return { kafka: port };
    },
    async close() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of [...connections]) conn.close();
      await closed;
      await node?.close();
    },
  };
}
