/**
 * What every MQTT listener (TCP, TLS, WebSocket, secure WebSocket) does with a new socket before any MQTT work:
 * take a lease from the node's connection limiter (runtime/core/limits.ts) or close the socket at once, and put the
 * node's memory guard (runtime/core/memory-guard.ts) between the socket and the connection, so reading pauses
 * while the process is above its memory high watermark.
 */
import type { Socket } from 'node:net';
import type { BrokerContext } from '../../runtime/context.js';
import { connectionLimiterOf, normalizeIp, type ConnectionLimiter } from '../../runtime/core/limits.js';
import { memoryGuardOf, type MemoryGuard } from '../../runtime/core/memory-guard.js';
import type { Logger } from '../../runtime/logger.js';
import type { Transport, TransportHandler } from './transport.js';

/** At most one log line per this many ms about refused connections (a flood must not flood the log too). */
const REFUSAL_LOG_MS = 1000;

export class Admission {
  private readonly limiter: ConnectionLimiter;
  private readonly memory: MemoryGuard;
  private releaseMemory: (() => void) | undefined;
  private lastRefusalLog = 0;
  private refusedSinceLog = 0;

  constructor(
    ctx: BrokerContext,
    private readonly log: Logger,
  ) {
    this.limiter = connectionLimiterOf(ctx);
    this.memory = memoryGuardOf(ctx);
  }

  /** Starts memory sampling (while any listener of the node needs it). */
  start(): void {
    this.releaseMemory ??= this.memory.acquire();
  }

  stop(): void {
    this.releaseMemory?.();
    this.releaseMemory = undefined;
  }

  /** Takes a connection lease for a raw socket (before TLS or WebSocket handshakes), or destroys the socket. */
  admit(socket: Socket): boolean {
    const lease = this.limiter.tryAcquire(socket.remoteAddress);
    if (!lease) {
      this.refusedSinceLog++;
      if (Date.now() - this.lastRefusalLog >= REFUSAL_LOG_MS) {
        const fields = { remoteAddress: normalizeIp(socket.remoteAddress ?? '?'), limit: this.limiter.lastRefusalReason, refused: this.refusedSinceLog };
        this.log.warn(fields, 'connection limit reached: refusing mqtt connections');
        this.lastRefusalLog = Date.now();
        this.refusedSinceLog = 0;
      }
      socket.destroy();
      return false;
    }
    socket.once('close', lease.release);
    return true;
  }

  /**
   * The transport as the connection should see it: behind the memory guard when one is configured. The guard
   * counts what `socket` reads — for WebSocket the raw socket, so a huge frame still being received counts too.
   */
  guard(transport: Transport, socket: Socket): Transport {
    return this.memory.enabled ? new GuardedTransport(transport, socket, this.memory) : transport;
  }
}

/**
 * Counts the bytes read for the memory guard and pauses reading while it says so. The connection's own pauses
 * (flow control, publish rate) and the guard's are kept apart: reading resumes only when neither holds it.
 */
export class GuardedTransport implements Transport {
  private wanted = false;
  private memoryWait: (() => void) | undefined;
  private handler: TransportHandler | undefined;

  constructor(
    private readonly inner: Transport,
    socket: Socket,
    private readonly memory: MemoryGuard,
  ) {
    socket.on('data', (chunk: Buffer) => this.observe(chunk.length));
  }

  get kind(): Transport['kind'] {
    return this.inner.kind;
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }

  private observe(bytes: number): void {
    this.memory.observe(bytes);
    if (!this.memory.paused || this.memoryWait !== undefined || this.handler === undefined) return;
    this.inner.pause();
    this.memoryWait = this.memory.whenResumed(() => {
      this.memoryWait = undefined;
      if (this.wanted) return;
      this.inner.resume();
      // We, not the client, stopped reading: the wait does not count against its keep alive.
      this.handler?.onData(EMPTY);
    });
  }

  start(handler: TransportHandler): void {
    this.handler = handler;
    this.inner.start({
      onData: (chunk) => handler.onData(chunk),
      onDrain: () => handler.onDrain(),
      onClose: () => {
        this.handler = undefined;
        this.memoryWait?.();
        this.memoryWait = undefined;
        handler.onClose();
      },
    });
  }

  write(data: Buffer): boolean {
    return this.inner.write(data);
  }

  pause(): void {
    this.wanted = true;
    this.inner.pause();
  }

  resume(): void {
    this.wanted = false;
    if (this.memoryWait === undefined) this.inner.resume();
  }

  end(): void {
    this.inner.end();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

const EMPTY = Buffer.alloc(0);
