/**
 * The byte-stream abstraction the MQTT state machine runs over: TCP sockets, WebSocket connections and in-memory
 * pairs (tests) all look the same to a connection. Callbacks instead of events keep the per-chunk cost low.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

export interface TransportHandler {
  onData(chunk: Buffer): void;
  /** The peer caught up after `write` returned false. */
  onDrain(): void;
  /** Called exactly once. */
  onClose(): void;
}

export interface Transport {
  readonly kind: 'tcp' | 'ws' | 'memory';
  readonly remoteAddress: string;
  start(handler: TransportHandler): void;
  /** Returns false when the peer is behind (more than the high-water mark buffered); onDrain follows. */
  write(data: Buffer): boolean;
  /** Bytes written but not yet handed to the operating system. */
  readonly bufferedBytes: number;
  pause(): void;
  resume(): void;
  /** Sends what was written, then closes. */
  end(): void;
  destroy(): void;
}

const END_GRACE_MS = 1000;
/** Bytes read from one peer before it lets the event loop turn (timers, file I/O, other sockets) go round. */
const READ_BUDGET = 256 * 1024;

/**
 * Reading with breaks: after READ_BUDGET bytes in one go the source is paused until the next loop turn (libuv
 * would otherwise keep reading a flooding socket for up to 2 MiB per turn, holding timers and fsync completions
 * back). A pause the connection asks for holds across such a break.
 */
class ReadGate {
  private paused = false;
  private yielding = false;
  private turnBytes = 0;

  constructor(
    private readonly stop: () => void,
    private readonly go: () => void,
  ) {}

  read(bytes: number): void {
    this.turnBytes += bytes;
    if (this.turnBytes >= READ_BUDGET && !this.yielding) {
      this.yielding = true;
      this.stop();
      setImmediate(this.endBreak);
    }
  }

  pause(): void {
    this.paused = true;
    this.stop();
  }

  resume(): void {
    this.paused = false;
    if (!this.yielding) this.go();
  }

  private readonly endBreak = (): void => {
    this.yielding = false;
    this.turnBytes = 0;
    if (!this.paused) this.go();
  };
}

export class TcpTransport implements Transport {
  readonly kind = 'tcp';
  readonly remoteAddress: string;
  private readonly gate: ReadGate;

  constructor(private readonly socket: Socket) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    this.gate = new ReadGate(
      () => socket.pause(),
      () => socket.resume(),
    );
  }

  start(handler: TransportHandler): void {
    const s = this.socket;
    s.on('data', (chunk: Buffer) => {
      handler.onData(chunk);
      this.gate.read(chunk.length);
    });
    s.on('drain', () => handler.onDrain());
    s.on('error', () => s.destroy()); // 'close' follows and reports it
    s.once('close', () => handler.onClose());
  }

  write(data: Buffer): boolean {
    return this.socket.write(data);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  end(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const WS_HIGH_WATER = 256 * 1024;

/** A thin adapter over a `ws` WebSocket: one binary frame per write, MQTT packets may span frames [MQTT-6.0.0-2]. */
export class WsTransport implements Transport {
  readonly kind = 'ws';
  private handler: TransportHandler | undefined;
  private behind = false;
  private readonly gate: ReadGate;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
  ) {
    this.gate = new ReadGate(
      () => ws.pause(),
      () => ws.resume(),
    );
  }

  start(handler: TransportHandler): void {
    this.handler = handler;
    this.ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      // [MQTT-6.0.0-1] MQTT travels in binary frames only; a text frame closes the connection.
      if (!isBinary) return this.ws.close(1003, 'MQTT needs binary frames');
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      handler.onData(chunk);
      this.gate.read(chunk.length);
    });
    this.ws.on('error', () => this.ws.terminate());
    this.ws.once('close', () => handler.onClose());
  }

  write(data: Buffer): boolean {
    this.ws.send(data, { binary: true }, this.afterSend);
    if (this.ws.bufferedAmount > WS_HIGH_WATER) this.behind = true;
    return !this.behind;
  }

  private readonly afterSend = (): void => {
    if (this.behind && this.ws.bufferedAmount <= WS_HIGH_WATER / 2) {
      this.behind = false;
      this.handler?.onDrain();
    }
  };

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  end(): void {
    this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.ws.terminate();
  }
}
