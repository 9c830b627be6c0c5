/**
 * The scheduler loop of `robustmq meta`: every `intervalMs`, read the live brokers and run one leadership pass
 * (reassign.ts). Several meta processes may run; one at a time is active, by a TTL lease in 'cluster' (key
 * `scheduler`) that the active one renews each pass — the others stand by and take over when it expires. Passes
 * of two schedulers would still be safe (every write is compare-and-set); the lease only saves work.
 *
 * Rebalancing is rate-limited to `movesPerMinute` handoffs over a sliding minute; a dead broker's partitions are
 * always reassigned at once. Lease expiries are logged with how long after the expiry the partitions were led
 * again (`failoverMs`), which bench/cluster-failover.ts also measures from outside.
 */
import { randomBytes } from 'node:crypto';
import { isRobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import { isLive, type BrokerLeaseValue } from './records.js';
import { reassignLeadership, type ReassignOutcome } from './reassign.js';

export interface SchedulerLoopOptions {
  readonly meta: MetaStore;
  readonly log: Logger;
  /** @default 500 */
  readonly intervalMs?: number;
  /** @default 6 */
  readonly movesPerMinute?: number;
  /** @default 15000 */
  readonly handoffTimeoutMs?: number;
}

const LEASE_KEY = 'scheduler';

export class SchedulerLoop {
  readonly id = `scheduler-${randomBytes(4).toString('hex')}`;
  private readonly intervalMs: number;
  private readonly movesPerMinute: number;
  private readonly moves: number[] = [];
  /** Last expiry seen per live broker, to report failover times once they are gone. */
  private readonly expiries = new Map<string, number>();
  private leaseVersion = 0;
  private active = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: SchedulerLoopOptions) {
    this.intervalMs = o.intervalMs ?? 500;
    this.movesPerMinute = o.movesPerMinute ?? 6;
  }

  get isActive(): boolean {
    return this.active;
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.running = this.pass()
        .then(() => undefined)
        .catch((err: unknown) => this.o.log.warn({ err }, 'scheduler pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.active) await this.o.meta.delete('cluster', LEASE_KEY, { expectedVersion: this.leaseVersion }).catch(() => false);
    this.active = false;
  }

  /** One pass: hold (or take) the scheduler lease, then reassign. Resolves with the outcome when active. */
  async pass(now = Date.now()): Promise<ReassignOutcome | undefined> {
    if (!(await this.holdLease())) return undefined;
    const leases = await this.o.meta.list<BrokerLeaseValue>('brokers');
    const live = leases.filter((e) => isLive(e, now) && e.value?.id === e.key);
    const gone = [...this.expiries].filter(([id]) => !live.some((e) => e.key === id));
    for (const e of live) if (e.expiresAt !== undefined) this.expiries.set(e.key, e.expiresAt);
    while (this.moves.length > 0 && this.moves[0] <= now - 60_000) this.moves.shift();
    const outcome = await reassignLeadership(this.o.meta, live.map((e) => e.value), now, {
      maxMoves: Math.max(0, this.movesPerMinute - this.moves.length),
      handoffTimeoutMs: this.o.handoffTimeoutMs,
      log: this.o.log,
    });
    for (let i = 0; i < outcome.handoffs; i++) this.moves.push(now);
    for (const [id, expiredAt] of gone) {
      this.expiries.delete(id);
      const done = Date.now();
      this.o.log.info({ brokerId: id, expiredAt, failoverMs: done - expiredAt, moved: outcome.moved }, 'broker lease expired; partitions reassigned');
    }
    return outcome;
  }

  private async holdLease(): Promise<boolean> {
    const ttlMs = Math.max(3000, this.intervalMs * 6);
    const value = { holder: this.id, at: Date.now() };
    try {
      const expectedVersion = this.active ? this.leaseVersion : 0;
      const entry = await this.o.meta.put('cluster', LEASE_KEY, value, { expectedVersion, ttlMs });
      this.leaseVersion = entry.version;
      if (!this.active) this.o.log.info({ scheduler: this.id }, 'scheduler active');
      this.active = true;
    } catch (err) {
      if (!isRobustMQError(err, 'CONFLICT')) throw err;
      if (this.active) this.o.log.warn({ scheduler: this.id }, 'scheduler lease lost; standing by');
      this.active = false;
    }
    return this.active;
  }
}
