/**
 * The broker-to-broker MQTT link: a TLS-PSK listener (`--mqtt-internal-port`, advertised in the lease as
 * `mqttInternal`; peer-tls.ts: only brokers holding the cluster secret get past the handshake) taking size-prefixed
 * frames (int32 length + body, the framing PeerPool speaks), each a JSON request answered by one JSON frame.
 * A malformed frame closes that connection; it never throws into the event loop.
 */
import type tls from 'node:tls';
import type { Logger } from '../logger.js';
import type { StoredMessage } from '../core/mqtt/persist-codec.js';
import { createPeerServer, type PeerCredential } from './peer-tls.js';
import { PeerError, type PeerPool } from './transport.js';

export type LinkRequest =
  /**
   * A message published on the sender: deliver to local direct subscribers and to the shared groups listed; with
   * `only`, to those sessions' direct subscriptions alone (a message re-sent after their broker died). `by`: the user
   * the publishing client authenticated as on the sender, which also authorized the publish (null: anonymous).
   */
  | { op: 'publish'; m: StoredMessage; shares: string[]; only?: string[]; by?: string | null }
  /** A client's session moved to the sender: drop it here (closing its connection) and save what it had. */
  | { op: 'release-session'; clientId: string };

export type LinkResponse = { ok: true } | { ok: false; error: string };

const MAX_FRAME = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5000;

export interface LinkListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly credential: PeerCredential;
  readonly log: Logger;
  /** Counts a connection refused for not proving the cluster secret. */
  readonly refused: () => void;
}

export async function openLinkListener(
  o: LinkListenerOptions,
  handle: (req: LinkRequest, peer: string) => Promise<void> | void,
): Promise<{ port: number; close(): Promise<void> }> {
  const { host, port, log } = o;
  const sockets = new Set<tls.TLSSocket>();
  const server = createPeerServer({ credential: o.credential, listener: 'mqtt-internal', log, refused: o.refused, onPeer: (socket, peer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (size < 0 || size > MAX_FRAME) return void socket.destroy();
        if (buf.length < 4 + size) return;
        const body = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        let req: LinkRequest;
        try {
          req = JSON.parse(body.toString('utf8')) as LinkRequest;
        } catch {
          return void socket.destroy();
        }
        // One request at a time per connection (the pool's contract): answers go out in order.
        chain = chain.then(async () => {
          let res: LinkResponse;
          try {
            await handle(req, peer);
            res = { ok: true };
          } catch (err) {
            log.warn({ err, op: req.op, peer }, 'mqtt link request failed');
            res = { ok: false, error: err instanceof Error ? err.message : String(err) };
          }
          if (!socket.destroyed) socket.write(frame(res));
        });
      }
    });
  } });
  server.on('error', (err) => log.error({ err }, 'mqtt internal listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as { port: number };
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function frame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Sends one request to `brokerId` over `peers` and waits for its answer; throws PeerError or the peer's error. */
export async function linkRequest(peers: PeerPool, brokerId: string, req: LinkRequest): Promise<void> {
  const body = Buffer.from(JSON.stringify(req), 'utf8');
  const answer = await peers.request(brokerId, [body], { expectResponse: true, timeoutMs: REQUEST_TIMEOUT_MS });
  if (!answer) throw new PeerError('closed', 'no answer from the peer');
  const res = JSON.parse(answer.toString('utf8')) as LinkResponse;
  if (!res.ok) throw new Error(`broker ${brokerId}: ${res.error}`);
}
