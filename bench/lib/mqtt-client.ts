/**
 * One load-generator connection over raw TCP: handshake (CONNECT, SUBSCRIBE), then publish as fast as the broker
 * absorbs (QoS 0: write while the socket accepts; QoS 1: a fixed window of unacknowledged messages) or count what
 * arrives. Counters are shared by every client of the process.
 */
import net from 'node:net';
import type { ClientRole, Counters } from './mqtt-protocol.js';
import {
  CONNACK,
  FrameScanner,
  PUBACK,
  PUBLISH,
  SUBACK,
  connectPacket,
  publishIdOffset,
  publishPacket,
  publishPacketId,
  repeatPacket,
  subscribePacket,
} from './mqtt-wire.js';

const TOPIC_PREFIX = Buffer.from('bench/');

/** Bytes handed to one write; the kernel buffer plus this bounds what a publisher has outstanding. */
const WRITE_BYTES = 16 * 1024;
/** Writes per event-loop turn, so one publisher cannot starve the others in the same process. */
const WRITES_PER_TURN = 4;

export interface ClientOptions {
  readonly port: number;
  readonly clientId: string;
  readonly role: ClientRole;
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payloadBytes: number;
  readonly inflight: number;
}

export class LoadClient {
  private readonly sock: net.Socket;
  private readonly scanner: FrameScanner;
  private state: 'connecting' | 'subscribing' | 'ready' | 'closed' = 'connecting';
  private running = false;
  private handshake?: { resolve: () => void; reject: (err: Error) => void };
  private readonly publish: Buffer;
  private readonly idOffset: number;
  private nextId = 1;
  private acksToSend: number[] = [];
  private acksReceived = 0;

  constructor(
    private readonly options: ClientOptions,
    private readonly counters: Counters,
  ) {
    this.publish = publishPacket(options.topic, Buffer.alloc(options.payloadBytes, 0x61), options.qos, 1);
    this.idOffset = options.qos > 0 ? publishIdOffset(this.publish) : -1;
    this.scanner = new FrameScanner((type, flags, buf, body, end) => this.onFrame(type, flags, buf, body, end));
    this.sock = net.connect({ port: options.port, host: '127.0.0.1', noDelay: true });
    this.sock.on('data', (chunk: Buffer) => this.onData(chunk));
    this.sock.on('error', (err) => this.fail(err));
    this.sock.on('close', () => this.fail(new Error('connection closed by broker')));
  }

  /** Resolves once CONNACK (and SUBACK for subscribers) arrived. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.handshake = { resolve, reject };
      this.sock.write(connectPacket(this.options.clientId));
    });
  }

  start(): void {
    if (this.options.role !== 'pub' || this.state !== 'ready') return;
    this.running = true;
    if (this.options.qos === 0) this.pump();
    else this.sendWindow(this.options.inflight);
  }

  close(): void {
    this.running = false;
    this.state = 'closed';
    this.sock.destroy();
  }

  private fail(err: Error): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.running = false;
    this.sock.destroy();
    if (wasReady) this.counters.lost++;
    this.handshake?.reject(new Error(`${this.options.clientId}: ${err.message}`));
    this.handshake = undefined;
  }

  private onData(chunk: Buffer): void {
    try {
      this.scanner.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.acksToSend.length > 0) {
      const ids = this.acksToSend;
      this.acksToSend = [];
      const out = Buffer.allocUnsafe(ids.length * 4);
      for (let i = 0; i < ids.length; i++) {
        const at = i * 4;
        out[at] = PUBACK << 4;
        out[at + 1] = 2;
        out.writeUInt16BE(ids[i], at + 2);
      }
      this.sock.write(out);
    }
    if (this.acksReceived > 0) {
      const n = this.acksReceived;
      this.acksReceived = 0;
      if (this.running) this.sendWindow(n);
    }
  }

  private onFrame(type: number, flags: number, buf: Buffer, body: number, end: number): void {
    if (type === PUBLISH) {
      this.counters.delivered++;
      const qos1 = (flags & 0x06) !== 0;
      // Every message is checked cheaply (topic prefix, payload size) so a count can never come from garbage.
      const topicLength = buf.readUInt16BE(body);
      const payload = end - body - 2 - topicLength - (qos1 ? 2 : 0);
      if (payload !== this.options.payloadBytes || buf.compare(TOPIC_PREFIX, 0, 6, body + 2, body + 8) !== 0) {
        this.counters.malformed++;
      }
      if (qos1) this.acksToSend.push(publishPacketId(buf, body));
    } else if (type === PUBACK) {
      this.counters.acked++;
      this.acksReceived++;
    } else if (type === CONNACK && this.state === 'connecting') {
      if (buf[body + 1] !== 0) throw new Error(`CONNACK return code ${buf[body + 1]}`);
      if (this.options.role === 'pub') this.ready();
      else {
        this.state = 'subscribing';
        this.sock.write(subscribePacket(1, this.options.topic, this.options.qos));
      }
    } else if (type === SUBACK && this.state === 'subscribing') {
      if (buf[body + 2] === 0x80) throw new Error(`SUBACK refused ${this.options.topic}`);
      this.ready();
    }
  }

  private ready(): void {
    this.state = 'ready';
    this.handshake?.resolve();
    this.handshake = undefined;
  }

  /** QoS 0: write whole chunks until the socket reports its buffer full, then wait for 'drain'. */
  private pump(): void {
    const perWrite = Math.max(1, Math.floor(WRITE_BYTES / this.publish.length));
    const chunk = repeatPacket(this.publish, perWrite);
    const turn = (): void => {
      for (let i = 0; i < WRITES_PER_TURN; i++) {
        if (!this.running) return;
        this.counters.published += perWrite;
        if (!this.sock.write(chunk)) {
          this.sock.once('drain', turn);
          return;
        }
      }
      setImmediate(turn);
    };
    turn();
  }

  /** QoS 1: `n` more publishes with fresh packet ids (ids wrap at 65535; the window is far smaller). */
  private sendWindow(n: number): void {
    const len = this.publish.length;
    const out = repeatPacket(this.publish, n);
    for (let i = 0; i < n; i++) {
      out.writeUInt16BE(this.nextId, i * len + this.idOffset);
      this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    }
    this.counters.published += n;
    this.sock.write(out);
  }
}
