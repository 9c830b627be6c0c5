/**
 * Connection limits shared by every protocol front-end of a node: at most `maxConnections` client connections in
 * all, and `maxConnectionsPerIp` from one address. A listener asks for a lease when a socket arrives (before any
 * TLS handshake or protocol bytes) and releases it when the socket closes; no lease means close the socket at once.
 *
 *   const lease = connectionLimiterOf(ctx).tryAcquire(socket.remoteAddress);
 *   if (!lease) return socket.destroy();
 *   socket.once('close', lease.release);
 */
import type { BrokerContext } from '../context.js';

export interface ConnectionLease {
  /** Idempotent. */
  release(): void;
}

export type Refusal = 'total' | 'per-ip';

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Refused connections since start, by reason. */
  readonly refused: Record<Refusal, number> = { total: 0, 'per-ip': 0 };
  private lastRefusal: Refusal | undefined;

  constructor(
    readonly maxConnections: number,
    readonly maxConnectionsPerIp: number,
  ) {}

  get connections(): number {
    return this.total;
  }

  connectionsFrom(ip: string): number {
    return this.perIp.get(normalizeIp(ip)) ?? 0;
  }

  /** Why the last refusal happened (for the log line of the caller). */
  get lastRefusalReason(): Refusal | undefined {
    return this.lastRefusal;
  }

  tryAcquire(address: string | undefined): ConnectionLease | null {
    const ip = normalizeIp(address ?? '');
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.total >= this.maxConnections) return this.refuse('total');
    if (fromIp >= this.maxConnectionsPerIp) return this.refuse('per-ip');
    this.total++;
    this.perIp.set(ip, fromIp + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      },
    };
  }

  private refuse(reason: Refusal): null {
    this.refused[reason]++;
    this.lastRefusal = reason;
    return null;
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client address. */
export function normalizeIp(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const limiters = new WeakMap<BrokerContext, ConnectionLimiter>();

/** The node's one limiter (from config maxConnections / maxConnectionsPerIp), shared by MQTT and Kafka. */
export function connectionLimiterOf(ctx: BrokerContext): ConnectionLimiter {
  let limiter = limiters.get(ctx);
  if (!limiter) {
    limiter = new ConnectionLimiter(ctx.config.maxConnections, ctx.config.maxConnectionsPerIp);
    limiters.set(ctx, limiter);
  }
  return limiter;
}
