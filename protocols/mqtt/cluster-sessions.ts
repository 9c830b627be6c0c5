/**
 * Persistent sessions and wills across the brokers of a cluster.
 *
 * - Ownership: a broker's route entry (runtime/cluster/mqtt-routes.ts) lists the persistent sessions it holds. On
 *   CONNECT, a broker asks every other live broker listing the client's session to release it (it closes the old
 *   connection with 0x8E Session taken over, writes the session and its queue out and drops its copy), then loads
 *   the session from the MetaStore ('sessions', 'mqtt-queue', 'mqtt-cursors') [MQTT-3.1.2-4] [MQTT-3.1.4-3].
 * - A dead broker (its lease expired; its entry left behind): the lowest-id live broker takes over the sessions it
 *   held, so messages published while their clients are away are queued, sends the wills it stored for its
 *   connected clients ('mqtt-wills'), and deletes what the dead broker left. A broker restarting under the same id
 *   does the same for its previous run. Wills taken over this way are sent at once (the Will Delay Interval,
 *   counted by the dead broker, is not honoured).
 */
import type { ClusterHandle } from '../../runtime/cluster/types.js';
import { linkRequest } from '../../runtime/cluster/mqtt-link.js';
import type { MqttRouteTable } from '../../runtime/cluster/mqtt-routes.js';
import type { PeerPool } from '../../runtime/cluster/transport.js';
import { decodeMessage, encodeMessage, type StoredMessage } from '../../runtime/core/mqtt/persist-codec.js';
import type { CursorRecord, QueuedRecord, SessionRecord } from '../../runtime/core/mqtt/session-store.js';
import type { MqttBroker } from './broker.js';
import type { MqttConnection } from './connection.js';
import { NEVER_EXPIRES } from './limits.js';
import { RC } from './reason-codes.js';
import { Session } from './session.js';

interface WillRecord {
  readonly brokerId: string;
  readonly clientId: string;
  readonly msg: StoredMessage;
  readonly at: number;
}

/** A will entry younger than this is never removed as stale (its CONNECT may still be in progress). */
const WILL_GRACE_MS = 5000;
const MAX_TIMER_MS = 2 ** 31 - 1;

const willKey = (brokerId: string, clientId: string): string => `${brokerId}\u0000${clientId}`;

export class ClusterSessions {
  private busy = false;

  constructor(
    private readonly broker: MqttBroker,
    private readonly cluster: ClusterHandle,
    private readonly routes: MqttRouteTable,
    private readonly peers: PeerPool,
  ) {}

  private get log() {
    return this.broker.ctx.log;
  }

  /** Before CONNECT is accepted: the session comes here from wherever it is; the will is stored. */
  async prepare(conn: MqttConnection): Promise<void> {
    const id = conn.clientId;
    await this.routes.refresh();
    for (const holder of this.routes.holders(id)) {
      await linkRequest(this.peers, holder, { op: 'release-session', clientId: id }).catch((err: unknown) =>
        this.log.warn({ err, broker: holder, clientId: id }, 'mqtt: the broker holding a session did not release it'),
      );
    }
    if (!this.broker.sessions.has(id)) await this.load(id);
    if (conn.will) {
      const record: WillRecord = { brokerId: this.cluster.brokerId, clientId: id, msg: encodeMessage(conn.will.msg), at: Date.now() };
      await this.broker.ctx.meta.put('mqtt-wills', willKey(this.cluster.brokerId, id), record);
    }
  }

  /** Another broker took the client's session: closes its connection here, writes it out and forgets it. */
  async release(clientId: string): Promise<void> {
    const b = this.broker;
    const s = b.sessions.get(clientId);
    if (s) {
      s.conn?.close(RC.SESSION_TAKEN_OVER, 'the session moved to another broker');
      if (b.sessions.get(clientId) === s) {
        if (s.expiryTimer) clearTimeout(s.expiryTimer);
        s.expiryTimer = undefined;
        // The client is back (elsewhere): a delayed will is not sent [MQTT-3.1.3-9 (v5)].
        if (s.pendingWill) clearTimeout(s.pendingWill.timer);
        s.pendingWill = undefined;
        s.persistAll();
        void b.store.saveSession(s.toRecord()).catch(() => {});
        for (const filter of s.subscriptions.keys()) b.router.unsubscribe(s, filter);
        b.sessions.delete(clientId);
      }
    }
    await b.store.flush();
    await b.ctx.meta.delete('mqtt-wills', willKey(this.cluster.brokerId, clientId)).catch(() => undefined);
    this.routes.changed();
    await this.routes.settled();
  }

  /** Loads a session from the MetaStore into this broker, offline; false when there is none (or it expired). */
  async load(clientId: string): Promise<boolean> {
    const b = this.broker;
    const meta = b.ctx.meta;
    const entry = await meta.get<SessionRecord>('sessions', clientId);
    if (!entry || b.sessions.has(clientId)) return false;
    const [queue, cursors] = await Promise.all([
      meta.list<QueuedRecord>('mqtt-queue', `${clientId}\u0000`),
      meta.list<CursorRecord>('mqtt-cursors', `${clientId}\u0000`),
    ]);
    if (b.sessions.has(clientId)) return false;
    const record = entry.value;
    const now = Date.now();
    const s = new Session(b, clientId);
    s.expiryInterval = record.expiryInterval;
    s.protocolVersion = record.protocolVersion;
    s.disconnectedAt = record.disconnectedAt ?? now;
    if (s.expiryInterval !== NEVER_EXPIRES && s.disconnectedAt + s.expiryInterval * 1000 <= now) {
      void b.store.deleteSession(clientId).catch(() => {});
      return false;
    }
    for (const { filter, ...options } of record.subscriptions) {
      s.subscriptions.set(filter, options);
      b.router.subscribe(s, filter, options);
    }
    for (const id of record.inboundQos2 ?? []) s.inboundQos2.add(id);
    if (cursors.length > 0) s.logCursors = new Map(cursors.map((c) => [c.value.topic, c.value.offsets]));
    const items = queue.map((e) => e.value).sort((x, y) => x.seq - y.seq);
    for (const q of items) {
      b.seqAtLeast(q.seq);
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
    b.sessions.set(clientId, s);
    this.armExpiry(s);
    this.routes.changed();
    this.log.info({ clientId, queued: items.length }, 'mqtt: session loaded from the cluster store');
    return true;
  }

  /** Every poll: the lowest-id live broker takes over what dead brokers left; stale wills of this one go. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.dropStaleWills();
      const live = this.cluster.brokers().filter((b) => b.mqttInternal).map((b) => b.id);
      if (live.length > 0 && live[0] === this.cluster.brokerId) {
        const settled = Date.now() - this.broker.ctx.config.clusterLeaseTtlMs;
        // An entry written within a lease TTL may be a broker still starting (its lease not yet visible).
        for (const [id, entry] of this.routes.deadEntries()) if (entry.updatedAt < settled) await this.adopt(id, entry.sessions ?? []);
        await this.sendWillsOfDead(new Set(live));
      }
    } catch (err) {
      this.log.warn({ err }, 'mqtt: taking over a dead broker\'s sessions failed; retrying');
    } finally {
      this.busy = false;
    }
  }

  /** At start: what this broker's previous run left (it did not stop cleanly, or its sessions were not taken). */
  async adoptPrevious(): Promise<void> {
    const previous = await this.routes.previous();
    if (!previous) return this.sendWills(this.cluster.brokerId);
    await this.routes.refresh();
    for (const id of previous.sessions ?? []) if (this.routes.holders(id).length === 0) await this.load(id);
    await this.sendWills(this.cluster.brokerId);
  }

  /** A clean stop: this broker's wills are not to be sent (its clients were told to reconnect). */
  async forgetWills(): Promise<void> {
    const meta = this.broker.ctx.meta;
    for (const e of await meta.list('mqtt-wills', `${this.cluster.brokerId}\u0000`)) await meta.delete('mqtt-wills', e.key).catch(() => undefined);
  }

  private async adopt(deadId: string, sessions: readonly string[]): Promise<void> {
    await this.routes.refresh();
    let n = 0;
    for (const clientId of sessions) {
      if (this.routes.holders(clientId).length > 0 || this.broker.sessions.has(clientId)) continue;
      if (await this.load(clientId)) n++;
    }
    await this.sendWills(deadId);
    // Others see the sessions listed here before the dead broker's entry goes (parked messages follow them).
    await this.routes.settled();
    await this.routes.forget(deadId);
    this.log.info({ broker: deadId, sessions: n }, 'mqtt: took over the sessions of a dead broker');
  }

  private async sendWillsOfDead(live: Set<string>): Promise<void> {
    const dead = new Set<string>();
    const settled = Date.now() - this.broker.ctx.config.clusterLeaseTtlMs;
    for (const e of await this.broker.ctx.meta.list<WillRecord>('mqtt-wills')) {
      if (!live.has(e.value.brokerId) && e.value.at < settled) dead.add(e.value.brokerId);
    }
    for (const id of dead) await this.sendWills(id);
  }

  /** Publishes (cluster-wide: observers forward it) and deletes every will `brokerId` stored. */
  private async sendWills(brokerId: string): Promise<void> {
    const meta = this.broker.ctx.meta;
    for (const e of await meta.list<WillRecord>('mqtt-wills', `${brokerId}\u0000`)) {
      // Delete first (compare-and-set): of two brokers seeing the same will, only one sends it.
      const won = await meta.delete('mqtt-wills', e.key, { expectedVersion: e.version }).catch(() => false);
      if (!won) continue;
      this.broker.stats.messagesIn++;
      const pending = this.broker.router.publish(decodeMessage(e.value.msg));
      if (pending) await pending.catch((err: unknown) => this.log.error({ err }, 'mqtt: will message not stored'));
      this.log.info({ broker: brokerId, clientId: e.value.clientId, topic: e.value.msg.t }, 'mqtt: sent the will of a client of a dead broker');
    }
  }

  private async dropStaleWills(): Promise<void> {
    const meta = this.broker.ctx.meta;
    const keep = new Set<string>();
    for (const c of this.broker.connections) if (c.state === 'connected' && c.will && !c.disconnected) keep.add(c.clientId);
    const cutoff = Date.now() - WILL_GRACE_MS;
    for (const e of await meta.list<WillRecord>('mqtt-wills', `${this.cluster.brokerId}\u0000`)) {
      if (!keep.has(e.value.clientId) && e.value.at < cutoff) await meta.delete('mqtt-wills', e.key).catch(() => undefined);
    }
  }

  private armExpiry(s: Session): void {
    if (s.expiryInterval === NEVER_EXPIRES) return;
    const wait = s.disconnectedAt + s.expiryInterval * 1000 - Date.now();
    s.expiryTimer = setTimeout(
      () => {
        s.expiryTimer = undefined;
        if (s.conn !== undefined || this.broker.sessions.get(s.clientId) !== s) return;
        if (s.disconnectedAt + s.expiryInterval * 1000 <= Date.now()) this.broker.endSession(s);
        else this.armExpiry(s);
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    s.expiryTimer.unref();
  }
}
