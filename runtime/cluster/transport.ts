/**
 * Broker-to-broker connections: size-prefixed frames (int32 length + body, Kafka's framing) over TLS-PSK
 * (peer-tls.ts: both ends prove the cluster secret) to a peer's internal listener. A connection carries one request
 * at a time — a pool per peer hands an idle one out, or opens another — so a long-polling request never holds up the
 * ones behind it. Protocol-neutral: the Kafka front-end
 * sends Kafka requests through it (protocols/kafka/cluster/forward.ts); phase-2 MQTT routing can send its own.
 *
 * Failures surface as PeerError: `unreachable` (nothing was sent: safe to retry anywhere), `timeout` and `closed`
 * (the request may or may not have been carried out).
 */
import type tls from 'node:tls';
import type { Logger } from '../logger.js';
import { connectPeer, type PeerCredential } from './peer-tls.js';
import type { Endpoint } from './records.js';

export type PeerFailure = 'unreachable' | 'timeout' | 'closed';

export class PeerError extends Error {
  constructor(
    readonly kind: PeerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

/** Largest response frame accepted from a peer (a Fetch answer can be large). */
const MAX_FRAME = 256 * 1024 * 1024;
const IDLE_MS = 60_000;
const CONNECT_TIMEOUT_MS = 2000;

class PeerConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: ((frame: Buffer | PeerError) => void) | undefined;
  idleSince = Date.now();
  dead = false;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (): void => this.fail(new PeerError('closed', 'the peer closed the connection'));
    socket.on('error', fail);
    socket.on('close', fail);
  }

  static async connect(credential: PeerCredential, to: Endpoint): Promise<PeerConnection> {
    try {
      return new PeerConnection(await connectPeer(credential, to, CONNECT_TIMEOUT_MS));
    } catch (err) {
      // A refused handshake (a peer with another secret) is as good as unreachable: nothing was sent.
      throw new PeerError('unreachable', `cannot connect to ${to.host}:${to.port}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  /** Sends one frame; resolves with the answer frame, or null at once when none is expected. */
  exchange(body: Buffer[], expectResponse: boolean, timeoutMs: number): Promise<Buffer | null> {
    const size = body.reduce((n, c) => n + c.length, 0);
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(size, 0);
    const answer = expectResponse
      ? new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.fail(new PeerError('timeout', `no answer from the peer within ${timeoutMs} ms`));
          }, timeoutMs);
          this.waiting = (frame) => {
            clearTimeout(timer);
            this.waiting = undefined;
            if (frame instanceof PeerError) reject(frame);
            else resolve(frame);
          };
        })
      : null;
    this.socket.cork();
    this.socket.write(prefix);
    for (const c of body) this.socket.write(c);
    this.socket.uncork();
    return answer ?? Promise.resolve(null);
  }

  close(): void {
    this.dead = true;
    this.socket.destroy();
  }

  private fail(err: PeerError): void {
    this.dead = true;
    this.socket.destroy();
    this.waiting?.(err);
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : Buffer.concat(this.chunks, 4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > MAX_FRAME) return this.fail(new PeerError('closed', `peer frame size ${size} out of range`));
      if (this.buffered < 4 + size) return;
      // Joined only once the whole frame is here, so a large answer is copied once.
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      if (this.waiting) this.waiting(frame);
      else this.fail(new PeerError('closed', 'the peer sent an unexpected frame'));
    }
  }
}

/** Connections to every peer, keyed by broker id; `resolve` says where a broker's internal listener is now. */
export class PeerPool {
  private readonly idle = new Map<string, PeerConnection[]>();
  private readonly busy = new Set<PeerConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly resolve: (brokerId: string) => Endpoint | undefined,
    private readonly credential: PeerCredential,
    private readonly log?: Logger,
  ) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_MS / 2);
    this.sweeper.unref();
  }

  /** One request/response exchange with `brokerId`; `body` is the frame without its size prefix. */
  async request(brokerId: string, body: Buffer[], options: { expectResponse: boolean; timeoutMs: number }): Promise<Buffer | null> {
    if (this.closed) throw new PeerError('unreachable', 'the peer pool is closed');
    const to = this.resolve(brokerId);
    if (!to) throw new PeerError('unreachable', `broker ${brokerId} is not live`);
    const key = `${brokerId}@${to.host}:${to.port}`;
    const conn = this.take(key) ?? (await PeerConnection.connect(this.credential, to));
    this.busy.add(conn);
    try {
      return await conn.exchange(body, options.expectResponse, options.timeoutMs);
    } finally {
      this.busy.delete(conn);
      this.give(key, conn);
    }
  }

  /** Closes every connection; requests in flight fail with `closed`. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const list of this.idle.values()) for (const c of list) c.close();
    for (const c of this.busy) c.close();
    this.idle.clear();
  }

  private take(key: string): PeerConnection | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const conn = list.pop()!;
      if (!conn.dead) return conn;
    }
    return undefined;
  }

  private give(key: string, conn: PeerConnection): void {
    if (conn.dead || this.closed) return conn.close();
    conn.idleSince = Date.now();
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    list.push(conn);
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const [key, list] of this.idle) {
      const keep = list.filter((c) => !c.dead && c.idleSince > cutoff);
      for (const c of list) if (!keep.includes(c)) c.close();
      if (keep.length > 0) this.idle.set(key, keep);
      else this.idle.delete(key);
    }
    this.log?.trace({ peers: this.idle.size, busy: this.busy.size }, 'peer pool swept');
  }
}
