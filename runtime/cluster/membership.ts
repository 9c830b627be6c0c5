/**
 * A broker's membership lease: one TTL entry in 'brokers', renewed by a heartbeat every third of the TTL with
 * compare-and-set on its version. A renewal that finds the entry gone or changed means the lease was lost (it
 * expired while this process was paused, or another process took the id): the scheduler has then fenced this
 * broker's storage and moved its partitions, so the broker must stop serving and restart — `onLost` says so.
 */
import { cpus } from 'node:os';
import { isRobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { BrokerLeaseValue } from './records.js';

export type LeaseReport = Pick<BrokerLeaseValue, 'connections' | 'lastActivityAt' | 'partitions'>;

export interface MembershipOptions {
  readonly meta: MetaStore;
  readonly ttlMs: number;
  readonly log: Logger;
  /** The load figures of the next heartbeat. */
  readonly report: () => LeaseReport;
  /** Called once when the lease is found lost. */
  readonly onLost: (reason: string) => void;
}

export class Membership {
  private version = 0;
  private value: BrokerLeaseValue | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private lost = false;
  private stopped = false;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = Date.now();

  constructor(private readonly o: MembershipOptions) {}

  get current(): BrokerLeaseValue | undefined {
    return this.value;
  }

  /** Writes the lease (taking over an entry a previous process of this id left behind) and starts the heartbeat. */
  async register(value: Omit<BrokerLeaseValue, keyof LeaseReport | 'heartbeatAt'>): Promise<void> {
    const now = Date.now();
    const full: BrokerLeaseValue = { ...value, ...this.o.report(), heartbeatAt: now };
    const entry = await this.o.meta.put('brokers', value.id, full, { ttlMs: this.o.ttlMs });
    this.version = entry.version;
    this.value = full;
    this.schedule();
    this.o.log.info({ brokerId: value.id, nodeId: value.nodeId, ttlMs: this.o.ttlMs }, 'cluster membership lease taken');
  }

  /** Renews the lease now with `patch` applied (e.g. `{ draining: true }`). */
  update(patch: Partial<BrokerLeaseValue>): Promise<void> {
    if (this.value) this.value = { ...this.value, ...patch };
    return this.beat();
  }

  /** Stops the heartbeat and deletes the lease, so the scheduler moves what is left at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating.catch(() => undefined);
    if (!this.value || this.lost) return;
    try {
      await this.o.meta.delete('brokers', this.value.id, { expectedVersion: this.version });
    } catch (err) {
      this.o.log.warn({ err }, 'membership lease not deleted; it will expire');
    }
  }

  private schedule(): void {
    if (this.stopped || this.lost) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beat(), Math.max(100, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  private beat(): Promise<void> {
    this.beating = this.beating.then(() => this.renew()).finally(() => this.schedule());
    return this.beating;
  }

  private async renew(): Promise<void> {
    if (!this.value || this.lost || this.stopped) return;
    const now = Date.now();
    const next: BrokerLeaseValue = { ...this.value, ...this.o.report(), heartbeatAt: now, cpu: this.cpu(now) };
    try {
      const entry = await this.o.meta.put('brokers', next.id, next, { expectedVersion: this.version, ttlMs: this.o.ttlMs });
      this.version = entry.version;
      this.value = next;
    } catch (err) {
      if (isRobustMQError(err, 'CONFLICT')) return this.loseLease('the membership lease expired or was taken over');
      // The store is unreachable: keep trying; the lease expires (and the broker is replaced) if this lasts.
      this.o.log.warn({ err }, 'membership heartbeat failed');
      if (Date.now() - this.value.heartbeatAt > this.o.ttlMs) this.loseLease('no heartbeat succeeded within the lease TTL');
    }
  }

  private loseLease(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    clearTimeout(this.timer);
    this.o.log.error({ brokerId: this.value?.id, reason }, 'cluster membership lost');
    this.o.onLost(reason);
  }

  private cpu(now: number): number {
    const used = process.cpuUsage(this.lastCpu);
    const elapsedUs = Math.max(1, (now - this.lastCpuAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = now;
    return Math.round(((used.user + used.system) / elapsedUs / Math.max(1, cpus().length)) * 1000) / 1000;
  }
}
