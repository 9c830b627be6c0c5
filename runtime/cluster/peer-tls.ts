/**
 * How brokers prove to each other that they belong to one cluster: every broker-to-broker connection (the Kafka
 * forwarding listener, the MQTT link) is TLS 1.2 with a pre-shared key (RFC 4279, ECDHE-PSK, RFC 5489) derived
 * from the cluster secret (`--cluster-secret`).
 *
 * Why PSK rather than mutual TLS with a cluster CA: both ends prove the same thing — knowledge of a secret only the
 * cluster's brokers hold — but there is no certificate authority to run, no certificates to issue to tasks whose
 * addresses are only known once they start, and nothing to renew; the one secret comes from Secrets Manager (ECS
 * secrets) or a mounted file. The handshake fails unless both ends derived the same key, so a process without the
 * secret (or with another cluster's) gets no further than the handshake: it cannot send a single request. ECDHE
 * gives forward secrecy, ChaCha20-Poly1305 encrypts and authenticates every record.
 *
 * The key is HKDF-SHA256(secret) rather than the secret itself, so the key on the wire's handshake is bound to
 * this use; the PSK identity a client presents is its broker id (logged by the server, not trusted for anything).
 */
import { hkdfSync } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger.js';
import type { Endpoint } from './records.js';

const CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305';
const HINT = 'robustmq-cluster';
/** A peer that connects but does not finish the handshake in this time is dropped. */
export const PEER_HANDSHAKE_TIMEOUT_MS = 5000;
/** At most one refusal log line per this many ms per listener (a scan must not flood the log). */
const REFUSAL_LOG_MS = 1000;
const IDENTITY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The 32-byte pre-shared key of a cluster secret. */
export function peerKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from(HINT), Buffer.from('robustmq peer psk v1'), 32));
}

export interface PeerCredential {
  /** This broker's id: the PSK identity it presents. */
  readonly brokerId: string;
  readonly key: Buffer;
}

export function peerCredential(brokerId: string, secret: string): PeerCredential {
  return { brokerId, key: peerKey(secret) };
}

/** Opens an authenticated connection to a peer's internal listener; rejects with the TLS or socket error. */
export function connectPeer(credential: PeerCredential, to: Endpoint, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: to.host,
      port: to.port,
      ciphers: CIPHERS,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      // PSK authenticates the server too: there is no certificate to check.
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ psk: credential.key, identity: credential.brokerId }),
    });
    const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

export interface PeerServerOptions {
  readonly credential: PeerCredential;
  /** Names the listener in logs and in `robustmq_peer_auth_failures_total{listener}`. */
  readonly listener: string;
  readonly log: Logger;
  /** Counts one refused connection. */
  readonly refused: () => void;
  /** An authenticated peer connection; `peer` is the broker id it presented. */
  readonly onPeer: (socket: tls.TLSSocket, peer: string) => void;
}

/**
 * A TLS-PSK server for an internal listener. A connection that does not complete the handshake with the cluster's
 * key (plain bytes, another cluster's secret, a certificate-based TLS client, silence) is closed, counted and
 * logged with its address.
 */
export function createPeerServer(o: PeerServerOptions): tls.Server {
  const identities = new WeakMap<net.Socket, string>();
  let lastLog = 0;
  let unlogged = 0;
  const server = tls.createServer({
    ciphers: CIPHERS,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    pskIdentityHint: HINT,
    handshakeTimeout: PEER_HANDSHAKE_TIMEOUT_MS,
    pskCallback: (socket, identity) => {
      if (!IDENTITY.test(identity)) return null;
      identities.set(socket, identity);
      return o.credential.key;
    },
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.setNoDelay(true);
    o.onPeer(socket, identities.get(socket) ?? '?');
  });
  server.on('tlsClientError', (err, socket) => {
    o.refused();
    unlogged++;
    const now = Date.now();
    if (now - lastLog >= REFUSAL_LOG_MS) {
      o.log.warn(
        { listener: o.listener, remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, refused: unlogged, reason: err.message.split('\n')[0] },
        'refused a connection to an internal listener: it did not prove the cluster secret',
      );
      lastLog = now;
      unlogged = 0;
    }
    socket.destroy();
  });
  return server;
}
