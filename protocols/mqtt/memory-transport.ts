/** An in-memory duplex pair, so the connection state machine can be tested without sockets. */
import type { Transport, TransportHandler } from './transport.js';

export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  peer!: MemoryTransport;
  private handler: TransportHandler | undefined;
  private inbox: Buffer[] = [];
  private paused = false;
  private closed = false;

  constructor(readonly remoteAddress: string) {}

  start(handler: TransportHandler): void {
    this.handler = handler;
    this.deliver();
  }

  write(data: Buffer): boolean {
    if (this.closed) return false;
    const peer = this.peer;
    queueMicrotask(() => {
      if (peer.closed) return;
      peer.inbox.push(data);
      peer.deliver();
    });
    return true;
  }

  get bufferedBytes(): number {
    return 0;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.deliver();
  }

  end(): void {
    // Let writes already queued reach the peer first.
    queueMicrotask(() => queueMicrotask(() => this.destroy()));
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler?.onClose();
    if (!this.peer.closed) this.peer.destroy();
  }

  private deliver(): void {
    while (this.handler && !this.paused && !this.closed && this.inbox.length > 0) {
      this.handler.onData(this.inbox.shift()!);
    }
  }
}

export function createMemoryPair(): [server: MemoryTransport, client: MemoryTransport] {
  const a = new MemoryTransport('memory:client');
  const b = new MemoryTransport('memory:server');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
