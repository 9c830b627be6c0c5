/**
 * The login guard on a fake clock: refusal once an address used up its failures, the window's end, addresses kept
 * apart (and ::ffff: / port forms of one address kept together), concurrent attempts held to the free slots, slots
 * of abandoned attempts given back, the table bounded, one log line per address and window, and the guard off.
 */
import { describe, expect, it } from 'vitest';
import { clientAddress, LoginGuard, type LoginAttempt, type LoginGuardOptions } from '../../runtime/core/auth/login-guard.js';

function setup(options: Partial<LoginGuardOptions> = {}) {
  let now = 1_000_000;
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }) };
  const guard = new LoginGuard({ maxFailures: 3, windowMs: 60_000, now: () => now, log: log as never, ...options });
  return {
    guard,
    warnings,
    advance: (ms: number) => (now += ms),
    /** One attempt from `address` that ends in `outcome`; false when the guard refused it. */
    async login(address: string, outcome: 'failure' | 'success' = 'failure'): Promise<boolean> {
      const attempt = await guard.enter(address);
      attempt?.finish(outcome);
      return attempt !== null;
    },
  };
}

/** Whether a promise has settled after the pending microtasks ran. */
async function settled<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('clientAddress', () => {
  it('keeps the IP of ip:port, drops ::ffff:, and ignores what is not an IP', () => {
    expect(clientAddress('127.0.0.1:5555')).toBe('127.0.0.1');
    expect(clientAddress('::ffff:127.0.0.1:5555')).toBe('127.0.0.1');
    expect(clientAddress('[::ffff:10.1.2.3]:80')).toBe('10.1.2.3');
    expect(clientAddress('::1:5555')).toBe('::1');
    expect(clientAddress('[2001:DB8::1]:9092')).toBe('2001:db8::1');
    expect(clientAddress('10.0.0.7')).toBe('10.0.0.7');
    expect(clientAddress('memory')).toBeUndefined();
    expect(clientAddress('?:0')).toBeUndefined();
    expect(clientAddress(undefined)).toBeUndefined();
  });
});

describe('LoginGuard', () => {
  it('refuses an address once it reached maxFailures, without admitting the attempt', async () => {
    const { guard, login } = setup();
    expect(await login('10.0.0.1:1')).toBe(true);
    expect(await login('10.0.0.1:2')).toBe(true);
    expect(await login('10.0.0.1:3')).toBe(true);
    expect(await guard.enter('10.0.0.1:4')).toBeNull();
    // Right credentials change nothing: they are not even looked at.
    expect(await login('10.0.0.1:5', 'success')).toBe(false);
  });

  it('does not count successes, and lets the address in again a window after the last failure', async () => {
    const { login, advance } = setup();
    expect(await login('10.0.0.1:1', 'success')).toBe(true);
    await login('10.0.0.1:1');
    advance(30_000);
    await login('10.0.0.1:1');
    expect(await login('10.0.0.1:1', 'success')).toBe(true);
    await login('10.0.0.1:1'); // the third failure, 30 s into the window: refused for a whole window from here
    advance(59_999);
    expect(await login('10.0.0.1:1', 'success')).toBe(false);
    advance(1);
    expect(await login('10.0.0.1:1', 'success')).toBe(true);
    // A fresh window: three failures again before the next refusal.
    expect(await login('10.0.0.1:1')).toBe(true);
    expect(await login('10.0.0.1:1')).toBe(true);
    expect(await login('10.0.0.1:1')).toBe(true);
    expect(await login('10.0.0.1:1')).toBe(false);
  });

  it('starts a new count when failures are further apart than the window', async () => {
    const { login, advance } = setup();
    for (let i = 0; i < 10; i++) {
      expect(await login('10.0.0.1:1')).toBe(true);
      expect(await login('10.0.0.1:1')).toBe(true);
      advance(60_000);
    }
  });

  it('keeps addresses apart, and port and ::ffff: forms of one address together', async () => {
    const { login } = setup();
    await login('192.168.1.5:1000');
    await login('::ffff:192.168.1.5:1001');
    await login('[::ffff:192.168.1.5]:1002');
    expect(await login('192.168.1.5:1003', 'success')).toBe(false);
    expect(await login('192.168.1.6:1000', 'success')).toBe(true);
    expect(await login('192.168.1.6:1000')).toBe(true);
    expect(await login('::1:1000')).toBe(true);
    expect(await login('192.168.1.5:1004', 'success')).toBe(false);
  });

  it('admits no more concurrent attempts than failures are left; the rest wait, then are refused', async () => {
    const { guard } = setup();
    const entering = Array.from({ length: 50 }, (_, i) => guard.enter(`10.0.0.9:${i}`));
    const first = (await Promise.all(entering.slice(0, 3))) as LoginAttempt[];
    expect(first.every((a) => a !== null)).toBe(true);
    expect(await settled(entering[3])).toBe(false);
    first[0].finish('failure');
    first[1].finish('failure');
    expect(await settled(entering[3])).toBe(false); // one failure left, and one attempt still holds it
    first[2].finish('failure');
    const rest = await Promise.all(entering.slice(3));
    expect(rest.every((a) => a === null)).toBe(true);
  });

  it('lets waiting attempts in as earlier ones succeed (a burst of right passwords from one NAT)', async () => {
    const { guard } = setup();
    let admitted = 0;
    let running = 0;
    let mostAtOnce = 0;
    const all = Array.from({ length: 40 }, async (_, i) => {
      const attempt = await guard.enter(`10.0.0.8:${i}`);
      if (attempt === null) return false;
      admitted++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      attempt.finish('success');
      return true;
    });
    expect(await Promise.all(all)).toEqual(Array(40).fill(true));
    expect(admitted).toBe(40);
    expect(mostAtOnce).toBe(3);
    expect(guard.size).toBe(0);
  });

  it('gives back the slot of an attempt never finished (a SCRAM exchange left half-way) after attemptTimeoutMs', async () => {
    const { guard, advance } = setup({ attemptTimeoutMs: 5_000 });
    for (let i = 0; i < 3; i++) expect(await guard.enter('10.0.0.2:1')).not.toBeNull();
    const waiting = guard.enter('10.0.0.2:2');
    expect(await settled(waiting)).toBe(false);
    advance(5_000);
    guard.sweep();
    const late = await waiting;
    expect(late).not.toBeNull();
    late!.finish('success');
  });

  it('keeps the table bounded under a flood from many addresses, dropping the least recently used', async () => {
    const { guard, login } = setup({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await login(`10.1.${i >> 8}.${i & 255}:1`);
    expect(guard.size).toBe(100);
    // The most recent addresses are still counted: two more failures refuse the last one.
    await login('10.1.3.231:1');
    await login('10.1.3.231:1');
    expect(await login('10.1.3.231:1', 'success')).toBe(false);
    guard.close();
  });

  it('forgets addresses whose window passed on the sweep', async () => {
    const { guard, login, advance } = setup();
    for (let i = 0; i < 20; i++) await login(`10.2.0.${i}:1`);
    expect(guard.size).toBe(20);
    advance(60_000);
    guard.sweep();
    expect(guard.size).toBe(0);
  });

  it('logs the refusal once per address and window, not per attempt', async () => {
    const { login, advance, warnings } = setup();
    for (let i = 0; i < 3; i++) await login('10.0.0.3:1');
    for (let i = 0; i < 100; i++) expect(await login('10.0.0.3:1')).toBe(false);
    expect(warnings).toEqual([
      { fields: { address: '10.0.0.3', failures: 3, windowMs: 60_000 }, msg: 'login attempts refused from 10.0.0.3: 3 failures in 60000 ms' },
    ]);
    for (let i = 0; i < 3; i++) await login('10.0.0.4:1');
    await login('10.0.0.4:1');
    expect(warnings).toHaveLength(2);
    advance(60_000);
    for (let i = 0; i < 4; i++) await login('10.0.0.3:1');
    expect(warnings).toHaveLength(3);
  });

  it('with maxFailures 0 admits everything and keeps no table', async () => {
    const { guard, login } = setup({ maxFailures: 0 });
    for (let i = 0; i < 100; i++) expect(await login('10.0.0.5:1')).toBe(true);
    expect(guard.enabled).toBe(false);
    expect(guard.size).toBe(0);
  });

  it('does not guard clients without an IP address (in-memory transports)', async () => {
    const { guard, login } = setup();
    for (let i = 0; i < 10; i++) expect(await login('memory')).toBe(true);
    expect(guard.size).toBe(0);
  });
});
