/**
 * What one process knows of the cluster: the live brokers (unexpired 'brokers' leases) and every partition's
 * leadership entry, refreshed by polling both namespaces every `pollMs` (a watch cannot be used for membership:
 * stores report no event when a lease expires). `refresh()` can also be called to look at once.
 *
 * This is the broker registry phase-2 code (MQTT across brokers) reuses: `brokers()` lists who is live and where
 * each one's internal listener is.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { Entry, MetaStore } from '../meta/store.js';
import { isLive, leaderKey, type BrokerLeaseValue, type PartitionLeader } from './records.js';

export interface ClusterViewEvents {
  /** After every refresh that saw a change of membership or leadership. */
  changed: [];
}

export class ClusterView extends EventEmitter<ClusterViewEvents> {
  private live = new Map<string, BrokerLeaseValue>();
  private leaders = new Map<string, Entry<PartitionLeader>>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private lastWarn = 0;
  private stopped = false;

  constructor(
    private readonly meta: MetaStore,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Live brokers in id order. */
  brokers(): BrokerLeaseValue[] {
    return [...this.live.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  broker(id: string | null | undefined): BrokerLeaseValue | undefined {
    return id ? this.live.get(id) : undefined;
  }

  brokerByNodeId(nodeId: number): BrokerLeaseValue | undefined {
    for (const b of this.live.values()) if (b.nodeId === nodeId) return b;
    return undefined;
  }

  leadership(topic: string, partition: number): Entry<PartitionLeader> | undefined {
    return this.leaders.get(leaderKey(topic, partition));
  }

  allLeadership(): Entry<PartitionLeader>[] {
    return [...this.leaders.values()];
  }

  /** Polls every `pollMs` until `stop()`. The first refresh has completed when this resolves. */
  async start(pollMs: number): Promise<void> {
    await this.refresh();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.refresh()
          .catch((err: unknown) => this.warn(err))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, pollMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Reads both namespaces now; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const [brokers, leaders] = await Promise.all([
      this.meta.list<BrokerLeaseValue>('brokers'),
      this.meta.list<PartitionLeader>('partitions'),
    ]);
    const now = Date.now();
    const live = new Map(brokers.filter((e) => isLive(e, now) && e.value?.id === e.key).map((e) => [e.key, e.value]));
    const next = new Map(leaders.map((e) => [e.key, e]));
    const changed = !sameBrokers(this.live, live) || !sameLeaders(this.leaders, next);
    this.live = live;
    this.leaders = next;
    if (changed) this.emit('changed');
  }

  private warn(err: unknown): void {
    if (Date.now() - this.lastWarn < 10_000) return;
    this.lastWarn = Date.now();
    this.log.warn({ err }, 'cluster view refresh failed; retrying');
  }
}

function sameBrokers(a: Map<string, BrokerLeaseValue>, b: Map<string, BrokerLeaseValue>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, v] of b) {
    const old = a.get(id);
    if (!old || old.startedAt !== v.startedAt || old.draining !== v.draining) return false;
  }
  return true;
}

function sameLeaders(a: Map<string, Entry<PartitionLeader>>, b: Map<string, Entry<PartitionLeader>>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, e] of b) if (a.get(key)?.version !== e.version) return false;
  return true;
}
