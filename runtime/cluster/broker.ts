/**
 * A cluster broker (`robustmq broker`): membership lease, view of the cluster, leadership of its partitions, and
 * the ClusterHandle protocols use to route requests. Lifecycle:
 *
 *   start(ports)  the listeners are up: take the lease, adopt topics, follow leadership (every `clusterPollMs`,
 *                 and at once on a change seen)
 *   drain()       SIGTERM: mark the lease draining (no new partitions, no groups), hand every partition to the
 *                 least loaded live broker, then delete the lease
 *   onFatal       the lease was lost (paused past its TTL) or storage refused this broker (fenced): its partitions
 *                 are someone else's now and cannot be taken back by this process — it must exit and restart
 */
import type { ClientRegistry } from '../core/clients.js';
import type { TopicManager } from '../core/topics.js';
import type { Logger } from '../logger.js';
import type { TopicRecord } from '../meta/records.js';
import type { MetaStore } from '../meta/store.js';
import type { StorageKind } from '../storage/engine.js';
import type { GatedEngine } from './gate.js';
import type { ClusterIdentity } from './identity.js';
import { LeadershipAgent } from './leadership.js';
import { Membership, type LeaseReport } from './membership.js';
import { ownerOf } from './ownership.js';
import type { PeerCredential } from './peer-tls.js';
import { leaderKey, type BrokerLeaseValue, type PartitionLeader } from './records.js';
import { PeerPool } from './transport.js';
import type { ClusterHandle, Route } from './types.js';
import { ClusterView } from './view.js';

export interface ClusterBrokerOptions {
  readonly identity: ClusterIdentity;
  readonly credential: PeerCredential;
  readonly meta: MetaStore;
  readonly topics: TopicManager;
  readonly engines: Partial<Record<StorageKind, GatedEngine>>;
  readonly clients: ClientRegistry;
  readonly log: Logger;
  readonly leaseTtlMs: number;
  readonly pollMs: number;
  readonly onFatal: (reason: string) => void;
}

/** Topics younger than this are never forgotten for being absent from a listing (it may predate them). */
const FORGET_GRACE_MS = 30_000;

export class ClusterBroker implements ClusterHandle {
  readonly brokerId: string;
  readonly nodeId: number;
  readonly advertise: 'single' | 'brokers';
  readonly view: ClusterView;
  readonly peers: PeerPool;
  readonly credential: PeerCredential;
  private readonly membership: Membership;
  private readonly agent: LeadershipAgent;
  private readonly startedAt = Date.now();
  private lastActivityAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private fatal = false;
  private storageRefused = false;

  constructor(private readonly o: ClusterBrokerOptions) {
    this.brokerId = o.identity.brokerId;
    this.nodeId = o.identity.nodeId;
    this.advertise = o.identity.advertise;
    this.view = new ClusterView(o.meta, o.log);
    this.credential = o.credential;
    this.peers = new PeerPool((id) => this.view.broker(id)?.internal, o.credential, o.log);
    this.agent = new LeadershipAgent({ brokerId: this.brokerId, meta: o.meta, view: this.view, topics: o.topics, engines: o.engines, log: o.log });
    this.membership = new Membership({
      meta: o.meta,
      ttlMs: o.leaseTtlMs,
      log: o.log,
      report: () => this.report(),
      onLost: (reason) => this.die(`membership lost: ${reason}`),
    });
  }

  /** Storage refused this broker's writes: it was declared dead and fenced. */
  fenced(err: Error): void {
    if (!this.storageRefused) this.o.log.error({ err: err.message }, 'storage refused a write: this broker is fenced');
    this.storageRefused = true;
    this.die(`storage fenced this broker: ${err.message}`);
  }

  async start(ports: Readonly<Record<string, number>>): Promise<void> {
    const host = this.o.identity.internalHost;
    await this.view.start(this.o.pollMs);
    await this.syncTopics();
    await this.membership.register({
      id: this.brokerId,
      nodeId: this.nodeId,
      host,
      kafka: { host, port: ports.kafka ?? 0 },
      internal: { host, port: ports.kafkaInternal ?? 0 },
      ...(ports.mqttInternal ? { mqttInternal: { host, port: ports.mqttInternal } } : {}),
      startedAt: this.startedAt,
    });
    await this.view.refresh();
    this.view.on('changed', () => void this.agent.reconcile());
    this.o.topics.on('created', (record) => void this.assignNew(record));
    await this.agent.reconcile();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.syncTopics()
          .catch((err: unknown) => this.o.log.warn({ err }, 'topic sync failed'))
          .then(() => this.agent.reconcile())
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.o.pollMs);
      this.timer.unref();
    };
    tick();
    this.o.log.info({ brokerId: this.brokerId, nodeId: this.nodeId, host, ports, advertise: this.advertise }, 'cluster broker joined');
  }

  /** Hands every led partition to another live broker (best effort within `timeoutMs`), then leaves. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.fatal) return this.stop();
    const deadline = Date.now() + timeoutMs;
    await this.membership.update({ draining: true }).catch(() => undefined);
    while (Date.now() < deadline && this.agent.led().length > 0 && this.receivers().length > 0) {
      await this.agent.drain(() => this.pickReceiver());
      if (this.agent.led().length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    this.o.log.info({ stillLed: this.agent.led().length }, 'cluster broker drained');
    await this.stop();
  }

  /** Stops following the cluster and deletes the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.view.stop();
    await this.membership.release();
    this.peers.close();
  }

  brokers(): BrokerLeaseValue[] {
    return this.view.brokers();
  }

  broker(id: string): BrokerLeaseValue | undefined {
    return this.view.broker(id);
  }

  leaderOf(topic: string, partition: number): { route: Route; epoch: number } {
    const entry = this.view.leadership(topic, partition)?.value;
    if (!entry?.leader) return { route: { kind: 'none' }, epoch: -1 };
    if (entry.leader === this.brokerId) return { route: { kind: 'local' }, epoch: entry.epoch };
    const broker = this.view.broker(entry.leader);
    return { route: broker ? { kind: 'remote', broker } : { kind: 'none' }, epoch: entry.epoch };
  }

  ownerOf(key: string): Route {
    const owner = ownerOf(key, this.view.brokers());
    if (!owner) return { kind: 'none' };
    return owner.id === this.brokerId ? { kind: 'local' } : { kind: 'remote', broker: owner };
  }

  /** Partitions per live broker, from the leadership entries. */
  partitionsByBroker(): Map<string, Array<{ topic: string; partition: number; epoch: number }>> {
    const out = new Map<string, Array<{ topic: string; partition: number; epoch: number }>>();
    for (const e of this.view.allLeadership()) {
      if (!e.value.leader) continue;
      let list = out.get(e.value.leader);
      if (!list) out.set(e.value.leader, (list = []));
      list.push({ topic: e.value.topic, partition: e.value.partition, epoch: e.value.epoch });
    }
    return out;
  }

  private die(reason: string): void {
    if (this.fatal) return;
    this.fatal = true;
    this.o.log.fatal({ brokerId: this.brokerId, reason }, 'cluster broker must restart');
    this.o.onFatal(reason);
  }

  private report(): LeaseReport {
    const clients = this.o.clients.list().filter((c) => c.details?.peer !== true);
    const connections: Record<string, number> = {};
    for (const c of clients) connections[c.protocol] = (connections[c.protocol] ?? 0) + 1;
    if (clients.length > 0) this.lastActivityAt = Date.now();
    return { connections, lastActivityAt: this.lastActivityAt, partitions: this.agent.led().length };
  }

  private receivers(): BrokerLeaseValue[] {
    return this.view.brokers().filter((b) => b.id !== this.brokerId && !b.draining);
  }

  /** The live, non-draining broker leading the fewest partitions. */
  private pickReceiver(): string | undefined {
    const counts = this.partitionsByBroker();
    let best: BrokerLeaseValue | undefined;
    for (const b of this.receivers()) {
      if (!best || (counts.get(b.id)?.length ?? 0) < (counts.get(best.id)?.length ?? 0)) best = b;
    }
    if (best) {
      const list = counts.get(best.id) ?? [];
      list.push({ topic: '', partition: -1, epoch: 0 });
      counts.set(best.id, list);
    }
    return best?.id;
  }

  /** Takes in topics other brokers created, changed or deleted. */
  private async syncTopics(): Promise<void> {
    const listedAt = Date.now();
    const entries = await this.o.meta.list<TopicRecord>('topics');
    const names = new Set<string>();
    for (const e of entries) {
      names.add(e.key);
      await this.o.topics.adopt(e.value).catch((err: unknown) => this.o.log.warn({ err, topic: e.key }, 'could not open a topic'));
    }
    for (const t of this.o.topics.list()) {
      if (names.has(t.name) || listedAt - t.createdAt < FORGET_GRACE_MS) continue;
      const engine = this.o.engines[t.storage];
      for (let p = 0; p < t.partitions; p++) await engine?.forgetPartition({ topic: t.name, partition: p });
      this.o.topics.forget(t.name);
    }
  }

  /**
   * A topic created through this broker gets leaders at once, spread over the live brokers, so clients need not
   * wait for the scheduler's next pass. Compare-and-set on absent entries: the scheduler may have been faster.
   */
  private async assignNew(record: TopicRecord): Promise<void> {
    if (this.stopped) return;
    await this.view.refresh().catch(() => undefined);
    if (this.view.leadership(record.name, 0)) return;
    const live = this.view.brokers().filter((b) => !b.draining);
    if (live.length === 0) return;
    const counts = this.partitionsByBroker();
    const order = [...live].sort((a, b) => (counts.get(a.id)?.length ?? 0) - (counts.get(b.id)?.length ?? 0) || (a.id < b.id ? -1 : 1));
    const now = Date.now();
    await Promise.all(
      Array.from({ length: record.partitions }, async (_, partition) => {
        const value: PartitionLeader = { topic: record.name, partition, leader: order[partition % order.length].id, epoch: 1, since: now };
        await this.o.meta.put('partitions', leaderKey(record.name, partition), value, { expectedVersion: 0 }).catch(() => undefined);
      }),
    );
    await this.view.refresh();
  }
}
