/**
 * Login floods: a password check costs a scrypt derivation (tens of ms on libuv's 4-thread pool), so wrong passwords
 * from one address must not take the pool from everyone else. Per client address (the IP, without port), failed
 * logins are counted in a window that opens at the address's first failure; once it holds `maxFailures`, every
 * further attempt from the address is refused before any credential work, until `windowMs` after the failure that
 * reached the limit. A success does not clear the count: one valid account must not let an address guess others'.
 *
 * Attempts being checked hold one of the address's slots (`maxFailures` minus its failures so far), so a burst of
 * concurrent attempts cannot all start a check before the first of them fails; attempts beyond the free slots wait
 * for one rather than being refused, so a burst of correct logins (devices behind one NAT reconnecting) still gets
 * in. An attempt not finished within `attemptTimeoutMs` (a SCRAM exchange the client walked away from) gives its
 * slot back.
 *
 * The table is bounded (`maxEntries`, least recently used addresses go first) and swept by an unref'd timer, which
 * also hands the slots of timed-out attempts to attempts waiting for them.
 */
import { isIP } from 'node:net';
import type { Logger } from '../../logger.js';
import { RobustMQError } from '../../errors.js';
import { normalizeIp } from '../limits.js';

export interface LoginGuardOptions {
  /** Failed logins one address may make per window; 0 turns the guard off. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Addresses tracked at most; @default 100_000 */
  readonly maxEntries?: number;
  /** How long an unfinished attempt keeps its slot; @default 10_000 (Kafka's default handshake timeout) */
  readonly attemptTimeoutMs?: number;
  /** The clock; @default Date.now */
  readonly now?: () => number;
  readonly log?: Pick<Logger, 'warn'>;
}

/** How an attempt ended: wrong credentials (counts), right ones, or neither (malformed, store error: no check made). */
export type AttemptOutcome = 'failure' | 'success' | 'none';

export interface LoginAttempt {
  /** Settles the attempt; later calls are ignored. */
  finish(outcome: AttemptOutcome): void;
}

/** Thrown where a login is refused by the guard, for the protocol edge to answer (MQTT: CONNACK 0x8A / 5). */
export class TooManyFailedLogins extends RobustMQError {
  constructor(readonly address: string | undefined) {
    super('INVALID_ARGUMENT', TOO_MANY_FAILED_LOGINS, { retriable: true });
    this.name = 'TooManyFailedLogins';
  }
}

export const TOO_MANY_FAILED_LOGINS = 'too many failed logins from this address, try again later';

const DEFAULT_MAX_ENTRIES = 100_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Entries looked at from the oldest end for one not busy, when the table is full. */
const EVICTION_SCAN = 32;

const NOOP: LoginAttempt = Object.freeze({ finish: () => undefined });

interface Entry {
  readonly address: string;
  failures: number;
  /** When the count resets (0: no failures counted). */
  windowEnd: number;
  /** The refusal of this window was logged. */
  warned: boolean;
  /** Unfinished attempts and when each gives its slot back. */
  readonly pending: Map<Attempt, number>;
  readonly waiters: Array<() => void>;
}

class Attempt implements LoginAttempt {
  private done = false;

  constructor(
    private readonly guard: LoginGuard,
    readonly entry: Entry,
  ) {}

  finish(outcome: AttemptOutcome): void {
    if (this.done) return;
    this.done = true;
    this.guard.settle(this, outcome);
  }
}

/**
 * The key of a client address: the IP of "ip:port", "[ip]:port" or a bare IPv4 address, with the `::ffff:` of
 * IPv4-mapped IPv6 dropped; undefined for anything that is not an IP (in-memory transports in tests).
 */
export function clientAddress(remote: string | undefined | null): string | undefined {
  if (!remote) return undefined;
  if (isIP(remote) === 4) return remote;
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(remote);
  let host: string | undefined = bracketed?.[1];
  if (host === undefined) {
    const colon = remote.lastIndexOf(':');
    if (colon > 0 && /^\d+$/.test(remote.slice(colon + 1))) host = remote.slice(0, colon);
  }
  if (host === undefined || isIP(host) === 0) return undefined;
  return normalizeIp(host.toLowerCase());
}

export class LoginGuard {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly attemptTimeoutMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: LoginGuardOptions) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  }

  get enabled(): boolean {
    return this.options.maxFailures > 0;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Admits a login attempt from `remote` ("ip:port"), or refuses it (null) when the address has used up its
   * failures. Waits while the address's slots are all held by attempts being checked. Every admitted attempt must
   * be finished. Without the guard, or without an IP to key on, every attempt is admitted at once.
   */
  enter(remote: string | undefined | null): Promise<LoginAttempt | null> {
    const address = this.enabled ? clientAddress(remote) : undefined;
    if (address === undefined) return Promise.resolve(NOOP);
    const entry = this.touch(address);
    return new Promise((resolve) => this.admit(entry, resolve));
  }

  /** Drops entries with nothing left to remember; the timer calls it, tests may too. */
  sweep(): void {
    for (const entry of this.entries.values()) {
      this.expire(entry);
      this.roll(entry);
      this.wake(entry);
      this.forgetIfIdle(entry);
    }
    if (this.entries.size === 0) this.stopSweeper();
  }

  close(): void {
    this.stopSweeper();
  }

  /** Called by an attempt's `finish`. */
  settle(attempt: Attempt, outcome: AttemptOutcome): void {
    const entry = attempt.entry;
    entry.pending.delete(attempt);
    if (outcome === 'failure') {
      // An attempt that outlived its slot may find its entry dropped meanwhile: the failure counts in a fresh one.
      const current = this.entries.get(entry.address) === entry ? entry : this.touch(entry.address);
      this.fail(current);
      if (current !== entry) this.wake(current);
    }
    this.wake(entry);
    this.forgetIfIdle(entry);
  }

  private admit(entry: Entry, resolve: (attempt: LoginAttempt | null) => void): void {
    this.expire(entry);
    this.roll(entry);
    const max = this.options.maxFailures;
    if (entry.failures >= max) {
      this.warnOnce(entry);
      resolve(null);
      return;
    }
    if (entry.failures + entry.pending.size < max) {
      const attempt = new Attempt(this, entry);
      entry.pending.set(attempt, this.now() + this.attemptTimeoutMs);
      resolve(attempt);
      return;
    }
    entry.waiters.push(() => this.admit(entry, resolve));
  }

  private fail(entry: Entry): void {
    this.roll(entry);
    const now = this.now();
    if (entry.failures === 0) entry.windowEnd = now + this.options.windowMs;
    entry.failures++;
    // Reaching the limit refuses the address for a whole window from now.
    if (entry.failures >= this.options.maxFailures) entry.windowEnd = now + this.options.windowMs;
  }

  /** Starts a new window once the current one has passed. */
  private roll(entry: Entry): void {
    if (entry.windowEnd !== 0 && this.now() >= entry.windowEnd) {
      entry.failures = 0;
      entry.windowEnd = 0;
      entry.warned = false;
    }
  }

  /** Gives back the slots of attempts that outlived attemptTimeoutMs. */
  private expire(entry: Entry): void {
    if (entry.pending.size === 0) return;
    const now = this.now();
    for (const [attempt, deadline] of entry.pending) if (now >= deadline) entry.pending.delete(attempt);
  }

  /** Lets waiting attempts in, in arrival order, as far as slots are free; all of them, refused, once the limit is reached. */
  private wake(entry: Entry): void {
    const max = this.options.maxFailures;
    while (entry.waiters.length > 0) {
      this.expire(entry);
      this.roll(entry);
      if (entry.failures < max && entry.failures + entry.pending.size >= max) return;
      entry.waiters.shift()!();
    }
  }

  private warnOnce(entry: Entry): void {
    if (entry.warned) return;
    entry.warned = true;
    const { windowMs } = this.options;
    this.options.log?.warn(
      { address: entry.address, failures: entry.failures, windowMs },
      `login attempts refused from ${entry.address}: ${entry.failures} failures in ${windowMs} ms`,
    );
  }

  /** The address's entry, created if need be and moved to the recently used end. */
  private touch(address: string): Entry {
    let entry = this.entries.get(address);
    if (entry) {
      this.entries.delete(address);
    } else {
      if (this.entries.size >= this.maxEntries) this.evictOne();
      entry = { address, failures: 0, windowEnd: 0, warned: false, pending: new Map(), waiters: [] };
      this.startSweeper();
    }
    this.entries.set(address, entry);
    return entry;
  }

  /**
   * Makes room by dropping the least recently used entry that no attempt is using. Entries in use are bounded by the
   * open connections, so if the oldest few are all busy the table may briefly grow past its cap.
   */
  private evictOne(): void {
    let scanned = 0;
    for (const entry of this.entries.values()) {
      this.expire(entry);
      if (entry.pending.size === 0 && entry.waiters.length === 0) {
        this.entries.delete(entry.address);
        return;
      }
      if (++scanned >= EVICTION_SCAN) return;
    }
  }

  private forgetIfIdle(entry: Entry): void {
    if (entry.failures === 0 && entry.pending.size === 0 && entry.waiters.length === 0 && this.entries.get(entry.address) === entry) {
      this.entries.delete(entry.address);
    }
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.options.windowMs, this.attemptTimeoutMs, 30_000));
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
