/**
 * Per-connection output batching: packets written during one turn of the event loop leave in a single transport
 * write (one syscall, one WebSocket frame) when the loop reaches its check phase. Connections with pending output
 * are flushed together by one shared `setImmediate`.
 */
import type { Transport } from './transport.js';

/** Above this many pending bytes a connection flushes at once instead of waiting for the end of the turn. */
const FLUSH_NOW_BYTES = 256 * 1024;

const dirty: Outbox[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  for (let i = 0; i < dirty.length; i++) dirty[i].flush();
  dirty.length = 0;
}

export class Outbox {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private queued = false;
  /** False once the transport reported it is behind, until it drains. */
  writable = true;
  /** When the transport last fell behind (epoch ms). */
  behindSince = 0;

  constructor(
    private readonly transport: Transport,
    private readonly onFlushed: (bytes: number) => void,
  ) {}

  /** Bytes not yet handed to the operating system: pending here plus buffered in the transport. */
  get backlog(): number {
    return this.bytes + this.transport.bufferedBytes;
  }

  push(packet: Buffer): void {
    this.chunks.push(packet);
    this.bytes += packet.length;
    if (this.bytes >= FLUSH_NOW_BYTES) {
      this.flush();
      return;
    }
    if (!this.queued) {
      this.queued = true;
      dirty.push(this);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushAll);
      }
    }
  }

  flush(): void {
    this.queued = false;
    const n = this.chunks.length;
    if (n === 0) return;
    const bytes = this.bytes;
    const data = n === 1 ? this.chunks[0] : Buffer.concat(this.chunks, bytes);
    this.chunks = [];
    this.bytes = 0;
    if (!this.transport.write(data) && this.writable) {
      this.writable = false;
      this.behindSince = Date.now();
    }
    this.onFlushed(bytes);
  }
}
