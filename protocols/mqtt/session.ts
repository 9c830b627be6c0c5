/**
 * An MQTT session [MQTT 4.1]: subscriptions, QoS 1/2 messages in flight to the client (by packet identifier, in
 * send order), messages queued behind the in-flight window or while offline, and inbound QoS 2 identifiers not yet
 * released. It outlives connections; `attach`/`detach` move it between them.
 */
import { isExpired, type MqttMessage, type QoS, type Subscriber, type SubscriptionOptions } from '../../runtime/core/mqtt/message.js';
import { Deque } from '../../runtime/core/mqtt/deque.js';
import { encodeMessage } from '../../runtime/core/mqtt/persist-codec.js';
import type { QueuedRecord, SessionRecord } from '../../runtime/core/mqtt/session-store.js';
import type { MqttBroker } from './broker.js';
import type { MqttConnection, Will } from './connection.js';
import { MAX_PAUSE_MS } from './limits.js';
import { pubrel } from './acks.js';

export interface Outgoing {
  msg: MqttMessage;
  qos: QoS;
  retain: boolean;
  subIds: number[] | undefined;
  shareKey: string | undefined;
  packetId: number;
  /** 0 = queued, 1 = PUBLISH sent, 2 = PUBREL sent. */
  state: 0 | 1 | 2;
  /** Key in the session store; 0 = not persisted. */
  seq: number;
}

/** A cursor entry meaning "this partition is caught up: deliver live". */
export const LIVE = -1;

export class Session implements Subscriber {
  conn: MqttConnection | undefined;
  readonly subscriptions = new Map<string, SubscriptionOptions>();
  readonly inflight = new Map<number, Outgoing>();
  readonly inboundQos2 = new Set<number>();
  /** Seconds the session outlives its connection; 0 = ends with it. */
  expiryInterval = 0;
  protocolVersion = 4;
  disconnectedAt = 0;
  expiryTimer: NodeJS.Timeout | undefined;
  /** When the client last acknowledged a message (or attached): a client that stops acknowledging is stuck. */
  private lastProgressAt = 0;
  pendingWill: { will: Will; timer: NodeJS.Timeout } | undefined;
  /**
   * Offset cursors into bound topics' logs (topic → next offset per partition, LIVE once caught up): what was
   * appended there while the session was away is read from the log on resume, not kept here as copies.
   */
  logCursors: Map<string, number[]> | undefined;
  private roomWaiters: Array<() => void> | undefined;
  private readonly queue = new Deque<Outgoing>();
  private lastPacketId = 0;

  constructor(
    readonly broker: MqttBroker,
    readonly clientId: string,
  ) {}

  get online(): boolean {
    return this.conn !== undefined;
  }

  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  deliver(msg: MqttMessage, qos: QoS, retain: boolean, subIds: number[] | undefined, shareKey: string | undefined): void | Promise<void> {
    if (msg.expiresAt !== 0 && isExpired(msg, Date.now())) return;
    // From a bound log this session has a cursor in: it reads the message from the log when it catches up.
    if (this.logCursors !== undefined && shareKey === undefined && this.readsFromLog()) return;
    const conn = this.conn;
    if (qos === 0) {
      if (conn !== undefined) {
        conn.sendPublish(msg, 0, retain, 0, false, subIds);
        return;
      }
      if (this.expiryInterval > 0) this.enqueue({ msg, qos, retain, subIds, shareKey, packetId: 0, state: 0, seq: 0 });
      return;
    }
    const o: Outgoing = { msg, qos, retain, subIds, shareKey, packetId: 0, state: 0, seq: 0 };
    if (conn !== undefined && this.queue.length === 0 && this.inflight.size < conn.sendWindow) {
      this.sendNew(conn, o);
      return;
    }
    if (!this.enqueue(o)) return;
    // [the brief's durability rule] queued for an offline persistent session: stored before the publisher's ack.
    if (conn === undefined && this.expiryInterval > 0) return this.persist(o);
  }

  // --- acknowledgements from the client -------------------------------------------------------------------------

  onPuback(packetId: number): void {
    const o = this.inflight.get(packetId);
    if (o === undefined || o.qos !== 1) return;
    this.complete(packetId, o);
  }

  /** Returns false for an unknown packet identifier. */
  onPubrec(packetId: number, reasonCode: number): boolean {
    const o = this.inflight.get(packetId);
    if (o === undefined || o.qos !== 2) return false;
    if (reasonCode >= 0x80) {
      this.complete(packetId, o); // [MQTT-4.3.3-? v5] an error PUBREC ends the exchange
      return true;
    }
    o.state = 2;
    if (o.seq !== 0) void this.broker.store.putQueued(this.clientId, this.record(o)).catch(() => {});
    return true;
  }

  onPubcomp(packetId: number): void {
    const o = this.inflight.get(packetId);
    if (o === undefined || o.state !== 2) return;
    this.complete(packetId, o);
  }

  private complete(packetId: number, o: Outgoing): void {
    this.lastProgressAt = Date.now();
    this.inflight.delete(packetId);
    if (o.seq !== 0) void this.broker.store.deleteQueued(this.clientId, o.seq).catch(() => {});
    this.pump();
  }

  // --- sending -------------------------------------------------------------------------------------------------

  private sendNew(conn: MqttConnection, o: Outgoing): void {
    const id = this.nextPacketId();
    o.packetId = id;
    o.state = 1;
    this.inflight.set(id, o);
    if (!conn.sendPublish(o.msg, o.qos, o.retain, id, false, o.subIds)) {
      // Too large for this client: behave as if delivered [MQTT-3.1.2-25].
      this.inflight.delete(id);
      if (o.seq !== 0) void this.broker.store.deleteQueued(this.clientId, o.seq).catch(() => {});
      return;
    }
    if (o.seq !== 0) void this.broker.store.putQueued(this.clientId, this.record(o)).catch(() => {});
  }

  /** Moves queued messages into the in-flight window. */
  pump(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.inflight.size < conn.sendWindow && conn.state === 'connected') {
      const o = this.queue.shift()!;
      if (o.msg.expiresAt !== 0 && isExpired(o.msg, now)) {
        if (o.seq !== 0) void this.broker.store.deleteQueued(this.clientId, o.seq).catch(() => {});
        continue;
      }
      if (o.qos === 0) conn.sendPublish(o.msg, 0, o.retain, 0, false, o.subIds);
      else this.sendNew(conn, o);
    }
    if (this.queue.length < this.broker.limits.sessionQueueLimit >> 2) conn.releaseWaiting();
    if (this.roomWaiters !== undefined && this.queue.length < this.halfQueue) this.wakeRoomWaiters();
  }

  /** Messages that may still be queued before the queue limit. */
  get room(): number {
    return this.broker.limits.sessionQueueLimit - this.queue.length;
  }

  /** Resolves once the queue is at most half full (or the connection is gone): pacing for reads from a log. */
  whenRoom(): Promise<void> {
    if (this.conn === undefined || this.queue.length < this.halfQueue) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  private get halfQueue(): number {
    return Math.max(1, this.broker.limits.sessionQueueLimit >> 1);
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters ?? [];
    this.roomWaiters = undefined;
    for (const wake of waiters) wake();
  }

  private readsFromLog(): boolean {
    const topic = this.broker.logTopic;
    if (topic === undefined) return false;
    const offsets = this.logCursors!.get(topic);
    return offsets !== undefined && offsets[this.broker.logPartition] !== LIVE;
  }

  /** A connection takes this session over: unacknowledged PUBLISH/PUBREL are resent [MQTT-4.4.0-1]. */
  resume(conn: MqttConnection): void {
    this.conn = conn;
    this.lastProgressAt = Date.now();
    for (const [id, o] of this.inflight) {
      if (o.state === 2) conn.sendRaw(pubrel(id, conn.version));
      else if (!conn.sendPublish(o.msg, o.qos, o.retain, id, true, o.subIds)) this.inflight.delete(id);
    }
    this.pump();
  }

  private nextPacketId(): number {
    do {
      this.lastPacketId = this.lastPacketId === 65535 ? 1 : this.lastPacketId + 1;
    } while (this.inflight.has(this.lastPacketId));
    return this.lastPacketId;
  }

  // --- queue ---------------------------------------------------------------------------------------------------

  /** Queues a message; at the limit the oldest QoS 0 message makes room, else the new one is dropped. */
  enqueue(o: Outgoing): boolean {
    const limit = this.broker.limits.sessionQueueLimit;
    if (this.queue.length >= limit) {
      if (o.qos === 0 || !this.queue.removeFirst((q) => q.qos === 0)) {
        this.broker.stats.dropped('queue-full');
        return false;
      }
      this.broker.stats.dropped('queue-full');
    }
    this.queue.push(o);
    // An online client that falls behind (but still acknowledges) slows its publishers down instead of losing
    // messages to the limit; one that stopped acknowledging does not hold anyone up.
    const conn = this.conn;
    if (conn !== undefined && this.queue.length >= limit >> 1 && Date.now() - this.lastProgressAt < MAX_PAUSE_MS) {
      const publisher = this.broker.currentPublisher;
      if (publisher !== undefined && publisher !== conn) publisher.pauseFor(conn);
    }
    return true;
  }

  private persist(o: Outgoing): Promise<void> {
    o.seq = this.broker.nextSeq();
    return this.broker.store.putQueued(this.clientId, this.record(o));
  }

  /** On disconnect: hands shared-subscription messages to other members, persists the rest of a persistent session. */
  detach(): void {
    this.conn = undefined;
    this.wakeRoomWaiters();
    const router = this.broker.router;
    for (const [id, o] of this.inflight) {
      if (o.shareKey !== undefined && o.state === 1 && router.redistribute(o.shareKey, o.msg, this)) {
        this.inflight.delete(id);
        if (o.seq !== 0) void this.broker.store.deleteQueued(this.clientId, o.seq).catch(() => {});
      }
    }
    this.queue.filter((o) => {
      if (o.shareKey === undefined || !router.redistribute(o.shareKey, o.msg, this)) return true;
      if (o.seq !== 0) void this.broker.store.deleteQueued(this.clientId, o.seq).catch(() => {});
      return false;
    });
    if (this.expiryInterval > 0) this.persistAll();
  }

  /** Writes every QoS 1/2 message not yet in the store (connection loss, shutdown). */
  persistAll(): void {
    for (const o of this.inflight.values()) if (o.seq === 0) void this.persist(o).catch(() => {});
    for (const o of this.queue) if (o.seq === 0 && o.qos > 0) void this.persist(o).catch(() => {});
  }

  /** Restores a message loaded from the store. */
  restore(o: Outgoing): void {
    if (o.state !== 0 && o.packetId > 0 && !this.inflight.has(o.packetId)) {
      this.inflight.set(o.packetId, o);
      if (o.packetId > this.lastPacketId) this.lastPacketId = o.packetId;
    } else {
      o.state = 0;
      o.packetId = 0;
      this.queue.push(o);
    }
  }

  /** Forgets all messages (clean start, or the session ended). */
  clearMessages(): void {
    this.inflight.clear();
    this.queue.clear();
    this.inboundQos2.clear();
  }

  record(o: Outgoing): QueuedRecord {
    const r: QueuedRecord = { seq: o.seq, msg: encodeMessage(o.msg), qos: o.qos, retain: o.retain };
    if (o.subIds) r.subIds = o.subIds;
    if (o.shareKey) r.shareKey = o.shareKey;
    if (o.state !== 0) {
      r.packetId = o.packetId;
      r.state = o.state;
    }
    return r;
  }

  toRecord(): SessionRecord {
    const rec: SessionRecord = {
      clientId: this.clientId,
      protocolVersion: this.protocolVersion,
      expiryInterval: this.expiryInterval,
      subscriptions: [...this.subscriptions].map(([filter, o]) => ({ filter, ...o })),
    };
    if (this.conn === undefined) rec.disconnectedAt = this.disconnectedAt || Date.now();
    if (this.inboundQos2.size > 0) rec.inboundQos2 = [...this.inboundQos2];
    return rec;
  }
}
