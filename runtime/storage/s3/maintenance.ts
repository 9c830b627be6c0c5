/**
 * Background upkeep of the S3 engine, one task at a time: collecting objects whose ranges are all dead,
 * compaction rounds, now and then the orphan sweep, and deleting the bytes of objects whose delay has passed. Failures are logged
 * and retried at the next run; they never reach producers or consumers.
 */
import type { Logger } from '../../logger.js';
import type { Collector } from './collector.js';
import { compactOnce, type CompactionContext, type CompactionOptions } from './compaction.js';

export interface MaintenanceOptions {
  readonly intervalMs: number;
  readonly orphanSweepMs: number;
  /** Compaction rounds per run at most. */
  readonly compactRounds: number;
  readonly compaction: CompactionOptions;
  readonly log?: Logger;
}

export interface MaintenanceStats {
  runs: number;
  compactions: number;
  objectsCompacted: number;
  failures: number;
}

export class Maintenance {
  readonly stats: MaintenanceStats = { runs: 0, compactions: 0, objectsCompacted: 0, failures: 0 };
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private nextSweep: number;
  private stopped = false;

  constructor(
    private readonly ctx: CompactionContext & { readonly collector: Collector; openKeys(): ReadonlySet<string> },
    private readonly o: MaintenanceOptions,
  ) {
    // The first sweep comes one interval after start: a crash leaves orphans, and a restart is when to find them.
    this.nextSweep = Date.now() + Math.min(o.orphanSweepMs, Math.max(o.intervalMs, 1));
  }

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.run(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Queues a run after the current one; resolves when it has finished (failures are logged, not thrown). */
  run(options: { sweep?: boolean; compact?: boolean } = {}): Promise<void> {
    this.chain = this.chain.then(() => this.runOnce(options));
    return this.chain;
  }

  /** Stops the timer and waits for the run under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
  }

  private async runOnce(options: { sweep?: boolean; compact?: boolean }): Promise<void> {
    if (this.stopped) return;
    this.stats.runs++;
    const { collector } = this.ctx;
    try {
      await collector.collectDead(this.ctx.openKeys());
      if (options.compact !== false && this.o.compaction.smallBytes > 0) {
        for (let i = 0; i < this.o.compactRounds && !this.stopped; i++) {
          const merged = await compactOnce(this.ctx, this.o.compaction);
          if (merged === 0) break;
          this.stats.compactions++;
          this.stats.objectsCompacted += merged;
        }
      }
      const now = Date.now();
      if (options.sweep || now >= this.nextSweep) {
        this.nextSweep = now + this.o.orphanSweepMs;
        await collector.sweepOrphans(now);
      }
      await collector.deleteDue();
    } catch (err) {
      this.stats.failures++;
      this.o.log?.warn({ err }, 'S3 maintenance run failed; retrying at the next run');
    }
  }
}
