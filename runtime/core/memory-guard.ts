/**
 * Backpressure instead of running out of memory: while the process's resident set is above the high watermark
 * (--memory-high-watermark-mb), connections stop reading from their sockets (socket.pause(): the kernel buffers
 * fill and TCP slows the clients down) and resume once memory drained — RSS back under 90% of the mark, or the
 * memory the process actually holds (V8 heap + Buffers) under half of it, since an allocator may keep freed pages.
 *
 * Sampling runs on a timer and also every `checkEveryBytes` read from clients (connections report what they read),
 * so a burst over loopback cannot outrun the timer by hundreds of MB.
 *
 *   const guard = memoryGuardOf(ctx);
 *   const release = guard.acquire();                 // starts sampling while any listener needs it
 *   guard.observe(chunk.length);                     // per chunk read
 *   if (guard.paused) { socket.pause(); guard.whenResumed(() => socket.resume()); }
 *   guard.on('pause', ...) / guard.on('resume', ...) // the same as events
 */
import { EventEmitter } from 'node:events';
import type { BrokerContext } from '../context.js';
import type { Logger } from '../logger.js';

export interface MemorySample {
  rss: number;
  /** Bytes the process holds: V8 heap in use plus memory outside it (Buffers). */
  live: number;
}

export interface MemoryGuardOptions {
  intervalMs?: number;
  /** Bytes read from clients between two samples at most. @default 4 MiB */
  checkEveryBytes?: number;
  /** `live` is only needed while paused; the default sampler computes it only then (it walks the heap spaces). */
  sample?: (needLive: boolean) => MemorySample;
  log?: Logger;
}

const sampleProcess = (needLive: boolean): MemorySample => {
  if (!needLive) return { rss: process.memoryUsage.rss(), live: 0 };
  const m = process.memoryUsage();
  return { rss: m.rss, live: m.heapUsed + m.external };
};

export class MemoryGuard extends EventEmitter {
  private isPaused = false;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  private readonly intervalMs: number;
  private readonly checkEveryBytes: number;
  private readBytes = 0;
  private readonly sample: (needLive: boolean) => MemorySample;

  /** `highWatermarkBytes` 0 disables the guard: it never pauses. */
  constructor(
    readonly highWatermarkBytes: number,
    private readonly options: MemoryGuardOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.intervalMs = options.intervalMs ?? 100;
    this.checkEveryBytes = options.checkEveryBytes ?? 4 * 1024 * 1024;
    this.sample = options.sample ?? sampleProcess;
  }

  get enabled(): boolean {
    return this.highWatermarkBytes > 0;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** Starts sampling (while at least one holder); returns the release function. */
  acquire(): () => void {
    this.users++;
    if (this.enabled && !this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.users === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.setPaused(false, undefined);
      }
    };
  }

  /** Calls `callback` once reading may resume (at once when not paused); returns a cancel function. */
  whenResumed(callback: () => void): () => void {
    if (!this.isPaused) {
      callback();
      return () => undefined;
    }
    this.once('resume', callback);
    return () => this.off('resume', callback);
  }

  /** Counts bytes read from a client; samples at once when enough arrived since the last sample. */
  observe(bytes: number): void {
    if (!this.enabled || this.users === 0) return;
    this.readBytes += bytes;
    if (this.readBytes >= this.checkEveryBytes) this.check();
  }

  /** Takes one sample and pauses or resumes; the timer calls it, tests may too. */
  check(): void {
    if (!this.enabled) return;
    this.readBytes = 0;
    const s = this.sample(this.isPaused);
    if (!this.isPaused && s.rss > this.highWatermarkBytes) this.setPaused(true, s);
    else if (this.isPaused && (s.rss < this.highWatermarkBytes * 0.9 || s.live < this.highWatermarkBytes * 0.5)) this.setPaused(false, s);
  }

  private setPaused(paused: boolean, s: MemorySample | undefined): void {
    if (paused === this.isPaused) return;
    this.isPaused = paused;
    const mb = (n: number | undefined) => (n === undefined ? undefined : Math.round(n / 1048576));
    const fields = { rssMb: mb(s?.rss), liveMb: mb(s?.live), highWatermarkMb: mb(this.highWatermarkBytes) };
    if (paused) this.options.log?.warn(fields, 'memory above the high watermark: pausing reads from clients');
    else this.options.log?.info(fields, 'memory drained: resuming reads from clients');
    this.emit(paused ? 'pause' : 'resume');
  }
}

const guards = new WeakMap<BrokerContext, MemoryGuard>();

/** The node's one guard (config memoryHighWatermarkMb), shared by every protocol front-end. */
export function memoryGuardOf(ctx: BrokerContext): MemoryGuard {
  let guard = guards.get(ctx);
  if (!guard) {
    guard = new MemoryGuard(ctx.config.memoryHighWatermarkMb * 1024 * 1024, { log: ctx.log.child({ component: 'memory-guard' }) });
    guards.set(ctx, guard);
  }
  return guard;
}
