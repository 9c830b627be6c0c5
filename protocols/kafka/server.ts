/**
 * The Kafka listeners: plain TCP on `kafkaPort` (PLAINTEXT, or SASL_PLAINTEXT with --auth on) and, when a TLS
 * certificate is configured, TLS on `kafkaTlsPort` (SSL / SASL_SSL). `--no-plain-listeners` leaves only the TLS one.
 * Each socket first needs a lease from the node's connection limiter (runtime/core/limits.ts), then is registered in
 * the client registry and handed to a KafkaConnection. Node-wide Kafka state (API table, cluster id, shared
 * services) lives in one KafkaNode per server.
 */
import { setMaxListeners } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { BrokerContext, ProtocolServer } from '../../runtime/context.js';
import { authOf } from '../../runtime/core/auth/service.js';
import { connectionLimiterOf } from '../../runtime/core/limits.js';
import { memoryGuardOf } from '../../runtime/core/memory-guard.js';
import { createPeerServer } from '../../runtime/cluster/peer-tls.js';
import { RobustMQError } from '../../runtime/errors.js';
import { loadTlsOptions, verifiedPeerName } from '../../runtime/tls.js';
import { KAFKA_APIS } from './apis/index.js';
import { clusterApis } from './cluster/apis.js';
import type { BrokerEndpoint } from './apis/types.js';
import { loadClusterId } from './cluster-id.js';
import { KafkaConnection } from './connection.js';
import { KafkaNode } from './node.js';

/** Single-node broker id. */
export const NODE_ID = 0;
/** At most one log line per this many ms about refused connections (a flood must not flood the log too). */
const REFUSAL_LOG_MS = 1000;

/** `::ffff:127.0.0.1` → `127.0.0.1`; other IPv6 addresses as they are. */
function plainAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export function createKafkaServer(ctx: BrokerContext): ProtocolServer {
  const log = ctx.log.child({ protocol: 'kafka' });
  const auth = authOf(ctx);
  const limiter = connectionLimiterOf(ctx);
  const memory = memoryGuardOf(ctx);
  const servers: net.Server[] = [];
  const connections = new Set<KafkaConnection>();
  const stopping = new AbortController();
  // Every connection listens on this signal; their number is bounded by the connection limiter, not by 10.
  setMaxListeners(0, stopping.signal);
  let node: KafkaNode | undefined;
  let releaseMemory: (() => void) | undefined;
  let lastRefusalLog = 0;
  let refusedSinceLog = 0;

  // Cluster (runtime/cluster): listing every broker needs this broker's own node id; one address stays node 0.
  const nodeId = ctx.cluster?.advertise === 'brokers' ? ctx.cluster.nodeId : NODE_ID;

  /** TLS sockets advertise the port they dialled: advertisedPort names the plain listener (a load balancer's). */
  const endpointFor = (socket: net.Socket, secure: boolean): BrokerEndpoint => ({
    nodeId,
    host: ctx.config.advertisedHost ?? plainAddress(socket.localAddress),
    port: (secure ? undefined : ctx.config.advertisedPort) ?? socket.localPort ?? ctx.config.kafkaPort,
    rack: null,
  });

  /** Takes a connection lease for a new socket, or closes it at once. */
  const admit = (socket: net.Socket): boolean => {
    if (!node || stopping.signal.aborted) {
      socket.destroy();
      return false;
    }
    const lease = limiter.tryAcquire(socket.remoteAddress);
    if (!lease) {
      refusedSinceLog++;
      if (Date.now() - lastRefusalLog >= REFUSAL_LOG_MS) {
        const fields = { remoteAddress: plainAddress(socket.remoteAddress), limit: limiter.lastRefusalReason, refused: refusedSinceLog };
        log.warn(fields, 'connection limit reached: refusing kafka connections');
        lastRefusalLog = Date.now();
        refusedSinceLog = 0;
      }
      socket.destroy();
      return false;
    }
    socket.once('close', lease.release);
    return true;
  };

  /** `internal`: the cluster's broker-to-broker listener, whose requests are served here, never forwarded. */
  const serve = (socket: net.Socket, secure: boolean, internal = false): void => {
    if (!node || stopping.signal.aborted) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const remoteAddress = `${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
    const details = secure ? { details: { tls: true } } : internal ? { details: { peer: true } } : {};
    const client = ctx.clients.add({ protocol: 'kafka', remoteAddress, ...details });
    const conn = new KafkaConnection(socket, {
      broker: ctx,
      kafka: node,
      info: { id: client.connectionId, remoteAddress, endpoint: endpointFor(socket, secure), ...(internal ? { internal } : {}) },
      client,
      log: log.child({ conn: client.connectionId }),
      maxFrameBytes: ctx.config.kafkaMaxRequestBytes,
      serverSignal: stopping.signal,
      auth,
      certificateUser: secure ? verifiedPeerName(socket as tls.TLSSocket) : undefined,
      handshakeTimeoutMs: ctx.config.kafkaHandshakeTimeoutMs,
      memory,
    });
    connections.add(conn);
    ctx.metrics.connections.inc({ protocol: 'kafka' });
    conn.onClosed(() => {
      connections.delete(conn);
      ctx.clients.remove(client.connectionId);
      ctx.metrics.connections.dec({ protocol: 'kafka' });
    });
  };

  return {
    name: 'kafka',
    async listen() {
      const tlsOptions = loadTlsOptions(ctx.config);
      if (!ctx.config.plainListeners && !tlsOptions) {
        throw new RobustMQError('INVALID_ARGUMENT', '--no-plain-listeners needs --tls-cert and --tls-key (no listener would be left)');
      }
      await auth.start();
      node = new KafkaNode(nodeId, await loadClusterId(ctx.meta), ctx.cluster ? clusterApis(KAFKA_APIS) : KAFKA_APIS);
      releaseMemory = memory.acquire();
      const ports: Record<string, number> = {};
      if (ctx.config.plainListeners) {
        const plain = net.createServer((socket) => admit(socket) && serve(socket, false));
        plain.on('error', (err) => log.error({ err }, 'kafka listener error'));
        servers.push(plain);
        ports.kafka = await listenOn(plain, ctx.config.kafkaPort, ctx.config.host);
      }
      if (tlsOptions) {
        const secure = tls.createServer({ ...tlsOptions, handshakeTimeout: ctx.config.kafkaHandshakeTimeoutMs });
        // 'connection' sees the raw socket before the handshake: limits apply before any TLS work is done.
        secure.on('connection', (socket: net.Socket) => admit(socket));
        secure.on('secureConnection', (socket: tls.TLSSocket) => serve(socket, true));
        secure.on('tlsClientError', (err, socket) => {
          // Node reports a handshake timeout or failure but leaves the socket open: close it, releasing its lease.
          log.debug({ err, remoteAddress: socket.remoteAddress }, 'kafka TLS handshake failed');
          socket.destroy();
        });
        secure.on('error', (err) => log.error({ err }, 'kafka TLS listener error'));
        servers.push(secure);
        ports.kafkaTls = await listenOn(secure, ctx.config.kafkaTlsPort, ctx.config.host);
      }
      if (ctx.cluster) {
        // Peers only: TLS-PSK with the cluster secret (runtime/cluster/peer-tls.ts); not subject to client limits.
        const internal = createPeerServer({
          credential: ctx.cluster.credential,
          listener: 'kafka-internal',
          log,
          refused: () => ctx.metrics.peerAuthFailures.inc({ listener: 'kafka-internal' }),
          onPeer: (socket) => serve(socket, false, true),
        });
        internal.on('error', (err) => log.error({ err }, 'kafka internal listener error'));
        servers.push(internal);
        ports.kafkaInternal = await listenOn(internal, ctx.config.internalPort, ctx.config.host);
      }
      log.info({ ...ports, host: ctx.config.host, auth: ctx.config.auth }, 'kafka listener started');
      return ports;
    },
    async close() {
      stopping.abort();
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const conn of [...connections]) conn.close();
      await Promise.all(closed);
      releaseMemory?.();
      await node?.close();
    },
  };
}
