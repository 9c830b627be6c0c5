/**
 * A broker's side of partition leadership: it makes the gates (gate.ts) match the leadership entries it sees.
 *
 * - Entry says this broker leads at epoch e: acquire the gate at e (opening the log loads what earlier leaders
 *   committed; they were fenced or handed over first).
 * - Entry says another broker (or none): release the gate.
 * - Entry asks this broker to hand the partition to B (`handoffTo`): release the gate — which waits until nothing
 *   this broker started can still reach storage — then write `leader = B, epoch + 1` with compare-and-set. Only
 *   then can B start, so the two never write at once, and traffic moves without anyone being fenced.
 *
 * While draining, entries that name this broker are handed over rather than acquired.
 */
import { isRobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Entry, MetaStore } from '../meta/store.js';
import type { TopicManager } from '../core/topics.js';
import type { StorageKind } from '../storage/engine.js';
import type { GatedEngine, GatedLog } from './gate.js';
import { leaderKey, type PartitionLeader } from './records.js';
import type { ClusterView } from './view.js';

export interface LeadershipOptions {
  readonly brokerId: string;
  readonly meta: MetaStore;
  readonly view: ClusterView;
  readonly topics: TopicManager;
  readonly engines: Partial<Record<StorageKind, GatedEngine>>;
  readonly log: Logger;
}

export class LeadershipAgent {
  private running: Promise<void> | undefined;
  private again = false;
  private draining = false;

  constructor(private readonly o: LeadershipOptions) {}

  /** The gates this broker currently serves through. */
  led(): GatedLog[] {
    const out: GatedLog[] = [];
    for (const t of this.o.topics.list()) {
      for (let p = 0; p < t.partitions; p++) {
        const gate = this.gate(t.name, p);
        if (gate && gate.epoch >= 0) out.push(gate);
      }
    }
    return out;
  }

  /** Brings the gates in line with the view; concurrent calls coalesce into one more run. */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.once().catch((err: unknown) => this.o.log.warn({ err }, 'leadership reconcile failed'));
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** From now on, every partition this broker leads is handed over; `pick` names the receiver. */
  async drain(pick: () => string | undefined): Promise<void> {
    this.draining = true;
    await this.reconcile();
    const mine = this.o.view.allLeadership().filter((e) => e.value.leader === this.o.brokerId);
    await Promise.all(
      mine.map(async (e) => {
        const to = e.value.handoffTo ?? pick();
        if (to) await this.handOver(e, to);
      }),
    );
    await this.o.view.refresh();
  }

  private async once(): Promise<void> {
    const self = this.o.brokerId;
    const jobs: Promise<void>[] = [];
    const wanted = new Set<GatedLog>();
    for (const e of this.o.view.allLeadership()) {
      const { topic, partition, leader, epoch, handoffTo } = e.value;
      const gate = this.gate(topic, partition);
      if (!gate) continue;
      if (leader !== self) {
        if (gate.epoch >= 0) jobs.push(this.release(gate));
        continue;
      }
      wanted.add(gate);
      const receiver = handoffTo === undefined ? undefined : this.o.view.broker(handoffTo);
      if (receiver && !receiver.draining) {
        jobs.push(this.handOver(e, receiver.id));
      } else if (!this.draining && gate.epoch !== epoch) {
        // A handoff to a broker that is gone is cancelled by the scheduler; serve meanwhile.
        jobs.push(this.acquire(gate, epoch));
      }
    }
    for (const gate of this.led()) if (!wanted.has(gate)) jobs.push(this.release(gate));
    await Promise.all(jobs);
  }

  private async acquire(gate: GatedLog, epoch: number): Promise<void> {
    const { topic, partition } = gate.id;
    try {
      await gate.acquire(epoch);
      this.o.topics.leadershipChanged(topic, partition, true);
      this.o.log.info({ topic, partition, epoch }, 'partition leadership taken');
    } catch (err) {
      this.o.log.warn({ err, topic, partition, epoch }, 'could not open a partition this broker leads; retrying');
    }
  }

  private async release(gate: GatedLog): Promise<void> {
    const { topic, partition } = gate.id;
    await gate.release();
    this.o.topics.leadershipChanged(topic, partition, false);
    this.o.log.info({ topic, partition }, 'partition leadership released');
  }

  private async handOver(e: Entry<PartitionLeader>, to: string): Promise<void> {
    const { topic, partition, epoch } = e.value;
    const gate = this.gate(topic, partition);
    if (gate && gate.epoch >= 0) await this.release(gate);
    const next: PartitionLeader = { topic, partition, leader: to, epoch: epoch + 1, since: Date.now() };
    try {
      await this.o.meta.put('partitions', leaderKey(topic, partition), next, { expectedVersion: e.version });
      this.o.log.info({ topic, partition, to, epoch: next.epoch }, 'partition handed over');
    } catch (err) {
      if (!isRobustMQError(err, 'CONFLICT')) throw err;
      // Changed meanwhile (handoff cancelled, or reassigned): the next reconcile follows the entry as it is.
      this.again = true;
    }
  }

  private gate(topic: string, partition: number): GatedLog | undefined {
    const record = this.o.topics.get(topic);
    if (!record || partition >= record.partitions) return undefined;
    return this.o.engines[record.storage]?.log(topic, partition);
  }
}
