/**
 * MQTT across the brokers of a cluster: a message published here is sent once to every other live broker whose
 * sessions subscribe to a matching filter (runtime/cluster/mqtt-routes.ts), which delivers it locally without
 * forwarding again (it enters that broker's router through `route`, never `publish`, so no observer sees it).
 * Shared subscriptions: each `$share` group gets a message on exactly one broker, chosen round robin among the
 * brokers with members; the others skip the group (router.shareGate). Retained messages go to every live broker so
 * each one's retained set stays current.
 *
 * Forwarding is asynchronous: the publisher's PUBACK does not wait for the other brokers (a broker dying with a
 * forward in flight loses that one copy).
 */
import type { ClusterHandle } from '../../runtime/cluster/types.js';
import { linkRequest, openLinkListener, type LinkRequest } from '../../runtime/cluster/mqtt-link.js';
import { MqttRouteTable } from '../../runtime/cluster/mqtt-routes.js';
import { PeerPool } from '../../runtime/cluster/transport.js';
import type { MqttMessage, QoS } from '../../runtime/core/mqtt/message.js';
import { decodeMessage, encodeMessage } from '../../runtime/core/mqtt/persist-codec.js';
import type { MqttBroker } from './broker.js';
import { ParkedForwards } from './cluster-parked.js';
import { ClusterSessions } from './cluster-sessions.js';

export class ClusterMqtt {
  readonly routes: MqttRouteTable;
  readonly sessions: ClusterSessions;
  private readonly parked: ParkedForwards;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly peers: PeerPool;
  /** Per message: the shared groups this broker delivers (absent = all of them). */
  private readonly shareDecisions = new WeakMap<MqttMessage, Set<string>>();
  private readonly turn = new Map<string, number>();
  private listener: { port: number; close(): Promise<void> } | undefined;
  private removeObserver: (() => void) | undefined;

  constructor(
    private readonly broker: MqttBroker,
    private readonly cluster: ClusterHandle,
  ) {
    const { ctx } = broker;
    this.peers = new PeerPool((id) => cluster.broker(id)?.mqttInternal, cluster.credential, ctx.log);
    this.routes = new MqttRouteTable({
      brokerId: cluster.brokerId,
      meta: ctx.meta,
      log: ctx.log,
      pollMs: ctx.config.clusterPollMs,
      localFilters: () => this.localFilters(),
      localSessions: () => this.localSessions(),
      live: () => this.others(),
    });
    this.sessions = new ClusterSessions(broker, cluster, this.routes, this.peers);
    this.parked = new ParkedForwards({
      routes: this.routes,
      log: ctx.log,
      live: () => this.others(),
      send: (id, m, shares, only) => linkRequest(this.peers, id, { op: 'publish', m, shares, ...(only ? { only } : {}) }),
      holdsHere: (clientId) => broker.sessions.has(clientId),
      deliverHere: (m, clients) => this.deliverOnly(decodeMessage(m), new Set(clients)),
    });
  }

  /** Opens the internal listener and publishes this broker's routes; returns the listener's port. */
  async start(): Promise<number> {
    const { ctx, router } = this.broker;
    router.shareGate = (key, msg) => this.shareDecisions.get(msg)?.has(key) ?? true;
    router.onSubscriptionsChanged = () => this.routes.changed();
    this.removeObserver = router.addObserver((msg) => this.forward(msg));
    this.listener = await openLinkListener(
      {
        host: ctx.config.host,
        port: ctx.config.mqttInternalPort,
        credential: this.cluster.credential,
        log: ctx.log,
        refused: () => ctx.metrics.peerAuthFailures.inc({ listener: 'mqtt-internal' }),
      },
      (req, peer) => this.serve(req, peer),
    );
    await this.sessions.adoptPrevious();
    await this.routes.start();
    this.broker.prepareSession = (conn) => this.sessions.prepare(conn);
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.sessions
          .tick()
          .then(() => this.parked.retry())
          .catch((err: unknown) => ctx.log.warn({ err }, 'mqtt: cluster upkeep failed; retrying'))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, ctx.config.clusterPollMs);
      this.timer.unref();
    };
    tick();
    return this.listener.port;
  }

  /** After the MQTT broker closed (sessions written out): its entry stays, for a live broker to take over. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.broker.prepareSession = undefined;
    await this.sessions.forgetWills().catch(() => undefined);
    this.removeObserver?.();
    const { router } = this.broker;
    router.shareGate = undefined;
    router.onSubscriptionsChanged = undefined;
    await this.routes.stop(false);
    await this.listener?.close();
    this.peers.close();
  }

  /** Delivers to the direct subscriptions of `clients` alone. */
  private async deliverOnly(msg: MqttMessage, clients: Set<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const d of this.broker.router.trie.match(msg.topic).direct) {
      if (!clients.has(d.subscriber.clientId)) continue;
      const qos = (d.qos < msg.qos ? d.qos : msg.qos) as QoS;
      const r = d.subscriber.deliver(msg, qos, d.retainAsPublished && msg.retain, d.subscriptionIds, undefined);
      if (r) waits.push(r);
    }
    await Promise.all(waits);
  }

  private *localFilters(): Iterable<string> {
    for (const s of this.broker.sessions.values()) yield* s.subscriptions.keys();
  }

  private *localSessions(): Iterable<string> {
    for (const s of this.broker.sessions.values()) if (s.persistent) yield s.clientId;
  }

  /** Other live brokers with an MQTT link. */
  private others(): string[] {
    return this.cluster
      .brokers()
      .filter((b) => b.id !== this.cluster.brokerId && b.mqttInternal)
      .map((b) => b.id);
  }

  private forward(msg: MqttMessage): void {
    const targets = new Map<string, string[]>();
    for (const id of this.routes.directTargets(msg.topic)) targets.set(id, []);
    if (msg.retain) for (const id of this.others()) if (!targets.has(id)) targets.set(id, []);
    const remoteShared = this.routes.sharedTargets(msg.topic);
    if (remoteShared.size > 0) {
      const local = new Set(this.broker.router.trie.match(msg.topic).shared.filter((g) => g.members.length > 0).map((g) => g.key));
      const keep = new Set<string>();
      for (const key of local) if (!remoteShared.has(key)) keep.add(key);
      for (const [key, ids] of remoteShared) {
        const candidates = local.has(key) ? [this.cluster.brokerId, ...ids] : ids;
        candidates.sort();
        const n = this.turn.get(key) ?? 0;
        this.turn.set(key, n + 1);
        const chosen = candidates[n % candidates.length];
        if (chosen === this.cluster.brokerId) keep.add(key);
        else {
          let shares = targets.get(chosen);
          if (!shares) targets.set(chosen, (shares = []));
          shares.push(key);
        }
      }
      this.shareDecisions.set(msg, keep);
    }
    if (targets.size === 0) return;
    const m = encodeMessage(msg);
    // Who published it (the user this broker authenticated and authorized it for): carried along for the record.
    const by = msg.origin === undefined ? null : (this.broker.sessions.get(msg.origin)?.conn?.username ?? null);
    for (const [id, shares] of targets) {
      linkRequest(this.peers, id, { op: 'publish', m, shares, by }).catch((err: unknown) => {
        this.broker.ctx.log.warn({ err, broker: id, topic: msg.topic }, 'mqtt: forwarding to a broker failed');
        // QoS 1/2: kept until the broker is back or its sessions were taken over (cluster-parked.ts).
        if (msg.qos > 0) this.parked.park(id, m, shares);
      });
    }
  }

  private serve(req: LinkRequest, peer: string): Promise<void> | void {
    if (req.op === 'publish') {
      const { log } = this.broker.ctx;
      // Per message: build the log fields only when someone reads them.
      if (log.isLevelEnabled('trace')) log.trace({ peer, topic: req.m.t, by: req.by ?? null }, 'mqtt: message forwarded by a peer');
      const msg = decodeMessage(req.m);
      if (req.only) return this.deliverOnly(msg, new Set(req.only));
      this.shareDecisions.set(msg, new Set(req.shares));
      this.broker.stats.messagesIn++;
      return this.broker.router.route(msg);
    }
    if (req.op === 'release-session') return this.sessions.release(req.clientId);
    throw new Error(`unknown mqtt link request ${String((req as { op?: unknown }).op)}`);
  }
}
