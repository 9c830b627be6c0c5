/**
 * The MQTT side of cross-protocol topics (runtime/core/bridge): routes records of bound topics to subscribers,
 * and lets persistent sessions resume from the log. When such a session goes offline it keeps, per bound topic its
 * subscriptions can reach, the offset of each partition the bridge had delivered up to (a cursor, in the
 * MetaStore); while it is away nothing from those partitions is copied into its queue; when it comes back, what
 * was appended meanwhile is read from the log in offset order, paced by its queue, until it has caught up and the
 * cursor is dropped.
 */
import type { LogSink, TopicBridge } from '../../runtime/core/bridge/bridge.js';
import type { MqttMessage, QoS } from '../../runtime/core/mqtt/message.js';
import { SubscriptionTrie } from '../../runtime/core/mqtt/trie.js';
import { isRobustMQError } from '../../runtime/errors.js';
import type { MqttBroker } from './broker.js';
import type { MqttConnection } from './connection.js';
import { LIVE, type Session } from './session.js';

/** Bytes of log read per step of a resume. */
const READ_BYTES = 256 * 1024;

const isShared = (filter: string): boolean => filter.startsWith('$share/');
/** Whether a payload is a small view into a much larger buffer (a whole batch), which it would keep alive. */
const pinsLargeBuffer = (payload: Buffer): boolean => {
  const arena = payload.buffer.byteLength;
  return arena > 16_384 && arena > 2 * payload.length;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class LogSessions implements LogSink {
  private readonly detachSink: () => void;
  private lastOrigin: string | undefined;
  private lastSession: Session | undefined;

  constructor(
    private readonly broker: MqttBroker,
    private readonly bridge: TopicBridge,
  ) {
    this.detachSink = bridge.attach(this);
    // The record timestamp is when the bytes arrived: the publishing connection stamps each read. A cluster
    // broker's share gate recognises messages by identity, so there the very objects are delivered after the append.
    broker.router.setBinding((msg) => bridge.claim(msg, broker.currentPublisher?.lastSeen, broker.router.shareGate !== undefined));
  }

  /** Publishes to bound topics already handed over are appended and delivered. */
  async close(): Promise<void> {
    await this.bridge.drained();
    this.broker.router.setBinding(undefined);
    this.detachSink();
  }

  deliver(msg: MqttMessage, topic: string, partition: number): void | Promise<void> {
    const b = this.broker;
    // Records produced by Kafka clients enter MQTT here (MQTT publishes were counted, and observed, on arrival).
    if (msg.origin === undefined) {
      b.stats.messagesIn++;
      b.router.observe(msg);
    }
    b.logTopic = topic;
    b.logPartition = partition;
    // Flow control as for a direct publish: a subscriber that lags pauses the publishing connection.
    b.currentPublisher = msg.origin === undefined ? undefined : this.publisherOf(msg.origin);
    // A payload may be a view into its whole batch; a retained message may live for ever, so it gets its own copy.
    const routed = msg.retain && pinsLargeBuffer(msg.payload) ? { ...msg, payload: Buffer.from(msg.payload) } : msg;
    try {
      return b.router.route(routed);
    } finally {
      b.logTopic = undefined;
      b.currentPublisher = undefined;
    }
  }

  /** The connection of a publishing client; consecutive messages mostly come from the same one. */
  private publisherOf(clientId: string): MqttConnection | undefined {
    if (clientId !== this.lastOrigin || this.lastSession?.conn === undefined) {
      this.lastOrigin = clientId;
      this.lastSession = this.broker.sessions.get(clientId);
    }
    return this.lastSession?.conn;
  }

  /** A persistent session lost its connection: cursors at the bridge's delivery positions. */
  park(session: Session): void {
    const filters = [...session.subscriptions.keys()].filter((f) => !isShared(f));
    const cursors = session.logCursors ?? new Map<string, number[]>();
    for (const topic of this.bridge.overlapping(filters)) {
      const positions = this.bridge.positions(topic);
      if (positions === undefined) continue;
      // A resume still in progress keeps where it got to; caught-up partitions start at the current position.
      const prev = cursors.get(topic);
      cursors.set(topic, positions.map((at, p) => (prev === undefined || prev[p] === LIVE ? at : (prev[p] ?? 0))));
    }
    if (cursors.size === 0) return;
    session.logCursors = cursors;
    for (const [topic, offsets] of cursors) void this.broker.store.putCursor(session.clientId, topic, offsets).catch(() => {});
  }

  /** The session is attached to `conn` again: read what it missed, then deliver live. */
  resume(session: Session, conn: MqttConnection): void {
    if (session.logCursors === undefined || session.logCursors.size === 0) return;
    this.replay(session, conn).catch((err: unknown) => {
      this.broker.ctx.log.warn({ err, clientId: session.clientId }, 'mqtt: resuming from the log failed');
      conn.close();
    });
  }

  private async replay(session: Session, conn: MqttConnection): Promise<void> {
    for (const topic of [...session.logCursors!.keys()]) {
      if (!(await this.replayTopic(session, conn, topic))) return;
    }
  }

  /** Returns false when the connection went away (the cursors stay where the replay got to). */
  private async replayTopic(session: Session, conn: MqttConnection, topic: string): Promise<boolean> {
    const offsets = session.logCursors?.get(topic);
    if (offsets === undefined) return true;
    const topics = this.broker.ctx.topics;
    for (let p = 0; p < (topics.get(topic)?.partitions ?? 0); p++) {
      for (;;) {
        if (session.conn !== conn) return false;
        const from = offsets[p] ?? 0;
        if (from === LIVE) break;
        const until = this.bridge.position(topic, p) ?? topics.partition(topic, p).highWatermark();
        // Checked and switched in one step: whatever the bridge delivers from now on reaches the session live.
        if (from >= until) {
          offsets[p] = LIVE;
          break;
        }
        // QoS 0 messages reach live subscribers just before their append: the position may be ahead of the log.
        const stored = topics.partition(topic, p).highWatermark();
        if (from >= stored) {
          await topics.waitForData(topic, p, from, 100);
          continue;
        }
        if (!(await this.paced(session, conn))) return false;
        let read;
        try {
          read = await this.bridge.read(topic, p, from, Math.min(until, stored), READ_BYTES);
        } catch (err) {
          if (!isRobustMQError(err, 'NOT_FOUND')) throw err;
          offsets[p] = LIVE; // the topic or partition is gone: nothing left to read
          break;
        }
        if (session.conn !== conn) return false;
        if (read.lost > 0) this.broker.ctx.log.warn({ clientId: session.clientId, topic, partition: p, lost: read.lost }, 'mqtt: records removed by retention before the session resumed');
        const next = this.deliverRead(session, read.messages, read.next);
        // No record and no progress means nothing decodable is left below `until`: skip ahead.
        offsets[p] = next > from ? next : read.messages.length === 0 ? until : from;
      }
    }
    const done = topics.get(topic) === undefined || offsets.every((o) => o === LIVE);
    if (done && session.logCursors?.get(topic) === offsets) {
      session.logCursors.delete(topic);
      if (session.logCursors.size === 0) session.logCursors = undefined;
      void this.broker.store.deleteCursor(session.clientId, topic).catch(() => {});
    }
    return true;
  }

  /** Waits while the session's queue or the connection's output is full; false when the connection went away. */
  private async paced(session: Session, conn: MqttConnection): Promise<boolean> {
    await session.whenRoom();
    while (session.conn === conn && conn.outputBacklog > this.broker.limits.softOutputBytes) await sleep(5);
    return session.conn === conn;
  }

  /** Delivers what fits in the queue; returns the offset to continue from. */
  private deliverRead(session: Session, messages: Array<{ offset: number; msg: MqttMessage }>, next: number): number {
    const trie = new SubscriptionTrie();
    for (const [filter, options] of session.subscriptions) if (!isShared(filter)) trie.add(filter, session, options);
    let room = Math.max(1, session.room >> 1);
    for (const { offset, msg } of messages) {
      if (room <= 0) return offset;
      const m = trie.match(msg.topic).direct[0];
      if (m === undefined) continue;
      room--;
      // [MQTT-3.3.1-12] not a retained message sent on subscribe: RETAIN only with Retain As Published.
      void session.deliver(msg, (m.qos < msg.qos ? m.qos : msg.qos) as QoS, m.retainAsPublished && msg.retain, m.subscriptionIds, undefined);
    }
    return next;
  }
}
