/**
 * One client's network connection: bytes in through a FrameGuard and mqtt-packet's parser, packets dispatched one
 * at a time in arrival order (a handler that must wait, e.g. CONNECT restoring a session, holds the packets behind
 * it), packets out through an Outbox that batches each turn of the event loop. Every protocol violation ends here,
 * in `fail`, which closes this connection only.
 */
import mqtt from 'mqtt-packet';
import type { ClientInfo } from '../../runtime/core/clients.js';
import type { MqttMessage, QoS } from '../../runtime/core/mqtt/message.js';
import type { MqttBroker } from './broker.js';
import { encodePublish } from './encode.js';
import { MqttProtocolError } from './errors.js';
import { MAX_PAUSE_MS } from './limits.js';
import { fastDecode, type TopicCache } from './fast-decode.js';
import { Framer } from './framer.js';
import { dispatch } from './handlers/index.js';
import { Outbox } from './outbox.js';
import { hasUnreadableProperty } from './property-check.js';
import { PublishRate } from './publish-rate.js';
import { RC } from './reason-codes.js';
import type { Session } from './session.js';
import type { Transport, TransportHandler } from './transport.js';

export type ConnState = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

export interface Will {
  msg: MqttMessage;
  /** Will Delay Interval in seconds (v5), 0 otherwise. */
  delay: number;
}

/** Above this many packets waiting behind a slow handler, reading from the socket pauses. */
const MAX_BACKLOG = 1000;

export class MqttConnection implements TransportHandler {
  state: ConnState = 'awaiting-connect';
  version: 3 | 4 | 5 = 4;
  clientId = '';
  username: string | undefined;
  session: Session | undefined;
  /** Keep alive timeout in ms (1.5 × the negotiated keep alive [MQTT-3.1.2-24]); 0 = none. */
  keepaliveTimeoutMs = 0;
  lastSeen = Date.now();
  will: Will | undefined;
  /** Largest packet the client accepts (v5 Maximum Packet Size); 0 = no limit. */
  clientMaxPacket = 0;
  /** QoS 1/2 messages that may be in flight to this client (v5 Receive Maximum). */
  sendWindow: number;
  /** v5 Request Problem Information: false = no reason strings except on CONNACK/DISCONNECT [MQTT-3.1.2-29]. */
  problemInfo = true;
  /** Session Expiry Interval given in CONNECT (v5), to police DISCONNECT [MQTT-3.14.2-2]. */
  connectExpiry = 0;
  /** Inbound topic aliases (v5). */
  aliases: Map<number, string> | undefined;
  /** A DISCONNECT was received (the will is discarded unless it asked for it). */
  disconnected = false;
  /** The client identifier was assigned by the server (v5 Assigned Client Identifier). */
  assignedClientId = false;
  /** The CN of the client's TLS certificate when the server verified it (--tls-ca); set by the listener. */
  certificateUser: string | undefined;
  readonly info: ClientInfo;

  private readonly parser: mqtt.Parser;
  private readonly framer: Framer;
  private readonly topicCache: TopicCache = { bytes: undefined, topic: '' };
  /** The last topic name that passed validation (the same string object while a publisher repeats it). */
  lastValidTopic = '';
  private readonly outbox: Outbox;
  private busy = false;
  private backlog: mqtt.Packet[] | undefined;
  /** Pending PUBACK/PUBREC sends, kept in order [MQTT-4.6.0-2] when one must wait for persistence. */
  private ackTail: Promise<void> | undefined;
  /** The newest group of acks waiting on `ackTail`. */
  private lastAcks: { after: Promise<void> | undefined; acks: Buffer[] } | undefined;
  private readPaused = false;
  private pauseTimer: NodeJS.Timeout | undefined;
  /** --mqtt-max-publish-rate: while `throttle` runs, reading stays paused whatever else would resume it. */
  private readonly publishRate: PublishRate | undefined;
  private throttle: NodeJS.Timeout | undefined;
  /** Publishers paused because this connection's output is behind. */
  private waiting: Set<MqttConnection> | undefined;

  constructor(
    readonly broker: MqttBroker,
    readonly transport: Transport,
  ) {
    this.sendWindow = broker.limits.defaultInflight;
    this.framer = new Framer(broker.limits.maxPacketSize, (frame, headerLength) => this.onFrame(frame, headerLength));
    this.outbox = new Outbox(transport, (bytes) => broker.stats.onBytesOut(bytes));
    this.parser = mqtt.parser({ protocolVersion: 4 });
    this.parser.on('packet', (packet: mqtt.Packet) =>
      hasUnreadableProperty(packet) ? this.onParseError(new Error(`${packet.cmd}: a property's length runs past the packet`)) : this.onPacket(packet),
    );
    this.parser.on('error', (err: Error) => this.onParseError(err));
    const rate = broker.ctx.config.mqttMaxPublishRate;
    this.publishRate = rate > 0 ? new PublishRate(rate, Date.now()) : undefined;
    this.info = broker.ctx.clients.add({ protocol: 'mqtt', remoteAddress: transport.remoteAddress });
  }

  start(): void {
    this.transport.start(this);
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get protocolVersion(): number {
    return this.version;
  }

  // --- input ---------------------------------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastSeen = Date.now();
    this.broker.stats.bytesIn += chunk.length;
    const problem = this.framer.push(chunk);
    if (problem) {
      this.fail(
        problem.kind === 'too-large'
          ? new MqttProtocolError(RC.PACKET_TOO_LARGE, `packet of ${problem.size} bytes exceeds the maximum packet size`)
          : new MqttProtocolError(RC.MALFORMED_PACKET, problem.kind === 'bad-type' ? 'reserved packet type 0' : 'remaining length longer than four bytes'),
      );
      return;
    }
  }

  private onFrame(frame: Buffer, headerLength: number): boolean {
    if (this.state === 'connected') {
      let packet: mqtt.Packet | undefined;
      try {
        packet = fastDecode(frame, headerLength, this.version, this.topicCache);
      } catch (err) {
        this.fail(err);
        return false;
      }
      if (packet !== undefined) {
        this.onPacket(packet);
        return (this.state as ConnState) !== 'closed';
      }
    }
    try {
      this.parser.parse(frame);
    } catch (err) {
      // mqtt-packet reports bad packets as 'error' events; anything it throws is a bad packet too, never a crash.
      this.onParseError(err instanceof Error ? err : new Error(String(err)));
    }
    return this.state !== 'closed';
  }

  /**
   * Before CONNECT only an unsupported protocol level is answered (CONNACK 1, the 3.1.1 layout every level
   * understands [MQTT-3.1.2-2]); any other broken first packet closes the connection silently.
   */
  private onParseError(err: Error): void {
    if (this.state === 'awaiting-connect') {
      if (/protocol version/i.test(err.message)) {
        this.state = 'connecting';
        this.fail(new MqttProtocolError(RC.UNSUPPORTED_PROTOCOL_VERSION, err.message));
      } else {
        this.fail(new MqttProtocolError(RC.MALFORMED_PACKET, err.message, true));
      }
      return;
    }
    this.fail(new MqttProtocolError(RC.MALFORMED_PACKET, err.message));
  }

  private onPacket(packet: mqtt.Packet): void {
    if (this.state === 'closed') return;
    // Packets parsed while a handler is pending or while flow control holds this publisher wait their turn.
    if (this.busy || this.readPaused) {
      (this.backlog ??= []).push(packet);
      // >=: a chunk already being parsed can carry the backlog past the mark, and reading must pause all the same.
      if (this.backlog.length >= MAX_BACKLOG) this.pauseReading();
      return;
    }
    this.run(packet);
  }

  private run(packet: mqtt.Packet): void {
    if (packet.cmd === 'publish' && this.publishRate !== undefined && this.state === 'connected') {
      const wait = this.publishRate.take(Date.now());
      if (wait > 0) {
        (this.backlog ??= []).unshift(packet); // runs first once the rate allows it
        this.throttleFor(wait);
        return;
      }
    }
    let pending: void | Promise<void>;
    try {
      pending = dispatch(this, packet);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (pending) {
      this.busy = true;
      pending.then(
        () => this.drainBacklog(),
        (err: unknown) => this.fail(err),
      );
    }
  }

  private drainBacklog(): void {
    this.busy = false;
    if (this.pauseTimer === undefined) this.resumeReading();
  }

  /** Runs the packets that waited; stops again as soon as a handler or flow control makes them wait. */
  private runBacklog(): void {
    const backlog = this.backlog;
    while (backlog && backlog.length > 0 && !this.busy && !this.readPaused && this.state !== 'closed') {
      this.run(backlog.shift()!);
    }
  }

  // --- output --------------------------------------------------------------------------------------------------

  /** Encodes and queues any packet (the non-hot paths). */
  send(packet: mqtt.Packet): void {
    if (this.state === 'closed') return;
    const opts = this.clientMaxPacket ? { protocolVersion: this.version, maximumPacketSize: this.clientMaxPacket } : { protocolVersion: this.version };
    this.outbox.push(mqtt.generate(packet, opts));
  }

  /** Queues raw bytes (pre-encoded acks). */
  sendRaw(bytes: Buffer): void {
    if (this.state !== 'closed') this.outbox.push(bytes);
  }

  /**
   * Sends one PUBLISH; returns false when it was not sent because it exceeds the client's Maximum Packet Size
   * [MQTT-3.1.2-25] or because QoS 0 output to a hopelessly slow client is being shed.
   */
  sendPublish(msg: MqttMessage, qos: QoS, retain: boolean, packetId: number, dup: boolean, subIds: number[] | undefined): boolean {
    if (this.state === 'closed') return false;
    const outbox = this.outbox;
    const backlog = outbox.backlog;
    const limits = this.broker.limits;
    if (backlog > limits.softOutputBytes) {
      if (qos === 0 && backlog > limits.hardOutputBytes) {
        this.broker.stats.dropped('slow-consumer');
        return false;
      }
      const publisher = this.broker.currentPublisher;
      if (publisher !== undefined && publisher !== this && (outbox.writable || Date.now() - outbox.behindSince < MAX_PAUSE_MS)) {
        publisher.pauseFor(this);
      }
    }
    const buf = encodePublish(msg, this.version, qos, retain, packetId, dup, subIds);
    if (this.clientMaxPacket !== 0 && buf.length > this.clientMaxPacket) {
      this.broker.stats.dropped('too-large-for-client');
      return false;
    }
    outbox.push(buf);
    this.broker.stats.messagesOut++;
    return true;
  }

  /**
   * Sends an acknowledgement now, or after the acks still waiting for persistence, preserving their order. Acks
   * that wait for the same promise (publishes stored in one batch) join one group: one promise chain per batch.
   */
  sendAck(bytes: Buffer, after?: Promise<void>): void {
    if (after === undefined && this.ackTail === undefined) {
      this.sendRaw(bytes);
      return;
    }
    const last = this.lastAcks;
    if (last !== undefined && (after === undefined || after === last.after)) {
      last.acks.push(bytes);
      return;
    }
    const group = { after, acks: [bytes] };
    const prev = this.ackTail ?? Promise.resolve();
    const tail: Promise<void> = Promise.all([prev, after]).then(
      () => {
        for (const ack of group.acks) this.sendRaw(ack);
        if (this.lastAcks === group) this.lastAcks = undefined;
        if (this.ackTail === tail) this.ackTail = undefined;
      },
      (err: unknown) => this.fail(err),
    );
    this.ackTail = tail;
    this.lastAcks = group;
  }

  onDrain(): void {
    this.outbox.writable = true;
    this.releaseWaiting();
  }

  // --- flow control --------------------------------------------------------------------------------------------

  /** Stops reading from this (publishing) connection until `target` catches up. */
  pauseFor(target: MqttConnection): void {
    (target.waiting ??= new Set()).add(this);
    if (this.readPaused) return;
    this.pauseReading();
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      if (!this.busy) this.resumeReading();
    }, MAX_PAUSE_MS);
    this.pauseTimer.unref();
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.transport.pause();
  }

  /** Over the publish rate: stops reading for `ms`, so TCP slows the client down. */
  private throttleFor(ms: number): void {
    this.pauseReading();
    if (this.throttle !== undefined) return;
    this.throttle = setTimeout(() => {
      this.throttle = undefined;
      if (!this.busy) this.resumeReading();
    }, ms);
    this.throttle.unref();
  }

  private resumeReading(): void {
    if (this.throttle !== undefined) return;
    if (this.pauseTimer) {
      clearTimeout(this.pauseTimer);
      this.pauseTimer = undefined;
    }
    if (this.state === 'closed') return;
    const wasPaused = this.readPaused;
    this.readPaused = false;
    this.runBacklog();
    if (wasPaused && !this.readPaused) {
      this.lastSeen = Date.now();
      this.transport.resume();
    }
  }

  /** Resumes the publishers paused for this connection. */
  releaseWaiting(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    for (const publisher of waiting) {
      // A publisher whose handler is still pending resumes as soon as it finishes, not when its pause times out.
      if (publisher.busy) publisher.cancelPauseTimer();
      else publisher.resumeReading();
    }
  }

  private cancelPauseTimer(): void {
    if (this.pauseTimer === undefined) return;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
  }

  /** Output bytes not yet handed to the operating system. */
  get outputBacklog(): number {
    return this.outbox.backlog;
  }

  /** Paused connections are exempt from keep alive: we, not the client, stopped reading. */
  get readingPaused(): boolean {
    return this.readPaused;
  }

  // --- closing -------------------------------------------------------------------------------------------------

  /**
   * Closes after a protocol violation or a server decision: a v5 client gets DISCONNECT with the reason code once
   * connected (CONNACK with it while connecting) [MQTT-4.13.1-1]; a log line says why.
   */
  fail(err: unknown): void {
    if (this.state === 'closed') return;
    const perr = err instanceof MqttProtocolError ? err : undefined;
    const code = perr?.reasonCode ?? RC.UNSPECIFIED;
    const message = err instanceof Error ? err.message : String(err);
    const level = perr ? 'info' : 'error';
    this.broker.ctx.log[level]({ clientId: this.clientId || undefined, remote: this.remoteAddress, reasonCode: code, err: perr ? undefined : err }, `mqtt: closing connection: ${message}`);
    if (perr?.silent) return this.close();
    if (this.state === 'awaiting-connect' || this.state === 'connecting') {
      this.broker.refuseConnect(this, code, message);
      return;
    }
    this.close(code, message);
  }

  /** Sends DISCONNECT (v5, when a reason code is given), flushes and closes the transport. */
  close(reasonCode?: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    if (reasonCode !== undefined && this.version === 5 && this.state === 'connected') {
      const properties = reasonString ? { reasonString } : undefined;
      this.send({ cmd: 'disconnect', reasonCode, properties });
    }
    this.outbox.flush();
    this.transport.end();
    this.onClose();
  }

  onClose(): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    if (this.throttle) clearTimeout(this.throttle);
    this.releaseWaiting();
    this.backlog = undefined;
    this.broker.ctx.clients.remove(this.info.connectionId);
    this.broker.connectionClosed(this, wasConnected);
  }
}
