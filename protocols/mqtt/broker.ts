/**
 * The MQTT front-end's shared state: connections, sessions by client identifier, the router, persistence, will
 * messages, keep-alive enforcement and statistics. Transports hand it connections; handlers call into it.
 */
import type { BrokerContext } from '../../runtime/context.js';
import { allowAll, type MqttAuthHooks } from '../../runtime/core/mqtt/auth.js';
import { decodeMessage } from '../../runtime/core/mqtt/persist-codec.js';
import { RetainedStore } from '../../runtime/core/mqtt/retained.js';
import { MqttRouter } from '../../runtime/core/mqtt/router.js';
import { SessionStore } from '../../runtime/core/mqtt/session-store.js';
import { WriteBehind } from '../../runtime/core/mqtt/write-behind.js';
import { MqttConnection, type Will } from './connection.js';
import { MqttProtocolError } from './errors.js';
import { NEVER_EXPIRES, resolveLimits, type MqttLimits } from './limits.js';
import { LogSessions } from './log-sessions.js';
import { RC, v3ConnackCode } from './reason-codes.js';
import { Session } from './session.js';
import { MqttStats } from './stats.js';
import { SysPublisher } from './sys.js';
import type { Transport } from './transport.js';

const SWEEP_MS = 250;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MqttBrokerOptions {
  auth?: MqttAuthHooks;
}

export class MqttBroker {
  readonly limits: MqttLimits;
  readonly retained: RetainedStore;
  readonly router: MqttRouter;
  readonly store: SessionStore;
  readonly stats: MqttStats;
  readonly sessions = new Map<string, Session>();
  readonly connections = new Set<MqttConnection>();
  readonly auth: MqttAuthHooks;
  /** The connection whose PUBLISH is being routed right now (flow control pauses it if a subscriber lags). */
  currentPublisher: MqttConnection | undefined;
  /** The bound topic and partition whose record is being routed right now (sessions with a cursor there skip it). */
  logTopic: string | undefined;
  logPartition = 0;
  /** Cross-protocol topics; undefined when the node runs no bridge. */
  readonly logSessions: LogSessions | undefined;
  /**
   * Cluster brokers (cluster-sessions.ts): run before a CONNECT is accepted, fetching the client's session from the
   * broker holding it or from the MetaStore; undefined on a single node.
   */
  prepareSession: ((conn: MqttConnection) => Promise<void>) | undefined;
  private readonly writer: WriteBehind;
  private readonly sys: SysPublisher;
  private sweeper: NodeJS.Timeout | undefined;
  private seq = Date.now() * 1000;
  private closing = false;
  private nextAssignedId = 0;

  constructor(
    readonly ctx: BrokerContext,
    options: MqttBrokerOptions = {},
  ) {
    this.limits = resolveLimits(ctx.config);
    this.writer = new WriteBehind(ctx.meta, ctx.log);
    this.retained = new RetainedStore(this.writer);
    this.router = new MqttRouter(this.retained);
    this.store = new SessionStore(ctx.meta, this.writer);
    this.stats = new MqttStats(ctx.metrics);
    this.sys = new SysPublisher(this);
    this.auth = options.auth ?? allowAll;
    this.logSessions = ctx.bridge ? new LogSessions(this, ctx.bridge) : undefined;
  }

  async start(): Promise<void> {
    await this.retained.load(this.ctx.meta);
    // A cluster broker loads a session when its client connects (or its broker died), not every session at start.
    if (!this.ctx.cluster) await this.restoreSessions();
    this.stats.start();
    this.sys.start(this.limits.sysIntervalMs);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  accept(transport: Transport): MqttConnection {
    const conn = new MqttConnection(this, transport);
    this.connections.add(conn);
    this.ctx.metrics.connections.inc({ protocol: 'mqtt' });
    conn.start();
    return conn;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Makes later sequence numbers exceed `seq` (messages of a session loaded from another broker). */
  seqAtLeast(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  assignClientId(): string {
    return `robustmq-${Date.now().toString(36)}-${(this.nextAssignedId++).toString(36)}`;
  }

  connectedCount(): number {
    let n = 0;
    for (const c of this.connections) if (c.state === 'connected') n++;
    return n;
  }

  onlineSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.online) n++;
    return n;
  }

  /** CONNACK with a refusal (v5 reason code, or its 3.1.1 return code), then close [MQTT-3.2.2-5]. */
  refuseConnect(conn: MqttConnection, reasonCode: number, reason?: string): void {
    if (conn.version === 5) {
      conn.send({ cmd: 'connack', reasonCode, sessionPresent: false, properties: reason ? { reasonString: reason } : undefined });
    } else {
      conn.send({ cmd: 'connack', returnCode: v3ConnackCode(reasonCode), sessionPresent: false });
    }
    conn.close();
  }

  /**
   * Binds a connection to its session: an existing connection with the same client identifier is closed (v5 with
   * 0x8E) [MQTT-3.1.4-3], Clean Start discards the old session [MQTT-3.1.2-4], otherwise it is resumed.
   */
  openSession(conn: MqttConnection, cleanStart: boolean, expiryInterval: number): { session: Session; present: boolean } {
    const id = conn.clientId;
    const current = this.sessions.get(id)?.conn;
    if (current) current.close(RC.SESSION_TAKEN_OVER, 'another connection took over the session');
    let session = this.sessions.get(id);
    if (session && cleanStart) {
      this.endSession(session);
      session = undefined;
    }
    const present = session !== undefined;
    if (session === undefined) {
      session = new Session(this, id);
      this.sessions.set(id, session);
    } else {
      if (session.expiryTimer) clearTimeout(session.expiryTimer);
      session.expiryTimer = undefined;
      // Reconnected within the Will Delay Interval: the will is not sent [MQTT-3.1.3-9 (v5)].
      if (session.pendingWill) clearTimeout(session.pendingWill.timer);
      session.pendingWill = undefined;
    }
    const wasPersistent = session.persistent;
    session.expiryInterval = expiryInterval;
    session.protocolVersion = conn.version;
    session.disconnectedAt = 0;
    conn.session = session;
    if (session.persistent) void this.store.saveSession(session.toRecord()).catch(() => {});
    else if (wasPersistent) void this.store.deleteSession(id, this.seq).catch(() => {});
    return { session, present };
  }

  /** A connection went away: will, shared-message hand-over, and the session ends or waits for its expiry. */
  connectionClosed(conn: MqttConnection, wasConnected: boolean): void {
    this.connections.delete(conn);
    this.ctx.metrics.connections.dec({ protocol: 'mqtt' });
    const session = conn.session;
    if (!wasConnected || session === undefined || session.conn !== conn) return;
    this.ctx.log.debug({ clientId: conn.clientId, remote: conn.remoteAddress, normal: conn.disconnected }, 'mqtt: client disconnected');
    session.detach();
    if (session.expiryInterval > 0) this.logSessions?.park(session);
    session.disconnectedAt = Date.now();
    // [MQTT-3.1.2-8] a will is published unless the client sent DISCONNECT (v5: without reason 0x04).
    if (conn.will && !conn.disconnected && !this.closing) this.scheduleWill(session, conn.will);
    if (session.expiryInterval === 0) {
      this.endSession(session);
      return;
    }
    void this.store.saveSession(session.toRecord()).catch(() => {});
    this.armExpiry(session);
  }

  /** [MQTT-3.1.3-9 (v5)] the will waits for min(Will Delay Interval, Session Expiry Interval). */
  private scheduleWill(session: Session, will: Will): void {
    const delay = Math.min(will.delay, session.expiryInterval);
    if (delay === 0) return this.publishWill(will);
    const timer = setTimeout(() => {
      session.pendingWill = undefined;
      this.publishWill(will);
    }, Math.min(delay * 1000, MAX_TIMER_MS));
    timer.unref();
    session.pendingWill = { will, timer };
  }

  private publishWill(will: Will): void {
    this.stats.messagesIn++;
    const pending = this.router.publish(will.msg);
    if (pending) pending.catch((err: unknown) => this.ctx.log.error({ err }, 'mqtt: will message not stored'));
  }

  private armExpiry(session: Session): void {
    if (session.expiryInterval === NEVER_EXPIRES) return;
    const deadline = session.disconnectedAt + session.expiryInterval * 1000;
    const wait = deadline - Date.now();
    if (wait <= 0) return this.endSession(session);
    session.expiryTimer = setTimeout(() => this.armExpiry(session), Math.min(wait, MAX_TIMER_MS));
    session.expiryTimer.unref();
  }

  /** The session is over: a delayed will goes out now, subscriptions and stored state are removed. */
  endSession(session: Session): void {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    if (session.pendingWill) {
      clearTimeout(session.pendingWill.timer);
      const { will } = session.pendingWill;
      session.pendingWill = undefined;
      this.publishWill(will);
    }
    for (const filter of session.subscriptions.keys()) this.router.unsubscribe(session, filter);
    session.subscriptions.clear();
    session.clearMessages();
    session.logCursors = undefined;
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    void this.store.deleteSession(session.clientId, this.seq).catch(() => {});
  }

  private sweep(): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (conn.readingPaused) continue;
      if (conn.state === 'connected') {
        if (conn.keepaliveTimeoutMs > 0 && now - conn.lastSeen > conn.keepaliveTimeoutMs) {
          conn.fail(new MqttProtocolError(RC.KEEP_ALIVE_TIMEOUT, 'keep alive timeout')); // [MQTT-3.1.2-24]
        }
      } else if (conn.state === 'awaiting-connect' && now - conn.info.connectedAt > this.ctx.config.mqttConnectTimeoutMs) {
        conn.fail(new MqttProtocolError(RC.MALFORMED_PACKET, 'no CONNECT received in time', true));
      }
    }
  }

  private async restoreSessions(): Promise<void> {
    const now = Date.now();
    for (const { record, queue, cursors } of await this.store.loadAll()) {
      const s = new Session(this, record.clientId);
      s.expiryInterval = record.expiryInterval;
      s.protocolVersion = record.protocolVersion;
      s.disconnectedAt = record.disconnectedAt ?? now;
      if (s.expiryInterval !== NEVER_EXPIRES && s.disconnectedAt + s.expiryInterval * 1000 <= now) {
        void this.store.deleteSession(record.clientId).catch(() => {});
        continue;
      }
      for (const { filter, ...options } of record.subscriptions) {
        s.subscriptions.set(filter, options);
        this.router.subscribe(s, filter, options);
      }
      for (const id of record.inboundQos2 ?? []) s.inboundQos2.add(id);
      if (cursors.size > 0) s.logCursors = cursors;
      queue.sort((a, b) => a.seq - b.seq);
      for (const q of queue) {
        if (q.seq > this.seq) this.seq = q.seq;
        s.restore({
          msg: decodeMessage(q.msg),
          qos: q.qos,
          retain: q.retain,
          subIds: q.subIds,
          shareKey: q.shareKey,
          packetId: q.packetId ?? 0,
          state: q.state ?? 0,
          seq: q.seq,
        });
      }
      this.sessions.set(s.clientId, s);
      this.armExpiry(s);
    }
  }

  /** Stops timers, closes every connection (v5: DISCONNECT 0x8B) and writes persistent sessions out. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sys.stop();
    for (const conn of [...this.connections]) conn.close(RC.SERVER_SHUTTING_DOWN, 'server shutting down');
    for (const s of this.sessions.values()) {
      if (s.expiryTimer) clearTimeout(s.expiryTimer);
      if (s.pendingWill) clearTimeout(s.pendingWill.timer);
      if (!s.persistent) continue;
      s.persistAll();
      void this.store.saveSession(s.toRecord()).catch(() => {});
    }
    await this.logSessions?.close();
    await this.store.flush();
    this.stats.stop();
  }
}
