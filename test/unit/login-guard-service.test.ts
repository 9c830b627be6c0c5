/**
 * The login guard inside AuthService: password logins (MQTT) and SASL exchanges (Kafka) from an address that failed
 * too often are refused before any credential work (no scrypt, no SCRAM lookup), the failures and refusals are
 * counted per protocol, a flood of concurrent attempts runs at most maxFailures checks, and callers without an
 * address are not guarded.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REFUSED_REASON } from '../../runtime/core/auth/guarded-sasl.js';
import { TooManyFailedLogins } from '../../runtime/core/auth/login-guard.js';
import { mqttAuthHooks } from '../../runtime/core/auth/mqtt-hooks.js';
import { AUTHENTICATION_FAILED } from '../../runtime/core/auth/sasl.js';
import { AuthService, type AuthSettings } from '../../runtime/core/auth/service.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { MetaStore } from '../../runtime/meta/store.js';
import { Metrics } from '../../runtime/metrics.js';

let dir: string;
let meta: MetaStore;
let metrics: Metrics;
const services: AuthService[] = [];

async function service(overrides: Partial<AuthSettings> = {}): Promise<AuthService> {
  const settings: AuthSettings = { auth: 'on', aclNoMatch: 'allow', scramIterations: 4096, authMaxFailures: 3, ...overrides };
  const s = new AuthService(meta, settings, pino({ level: 'silent' }), { metrics });
  services.push(s);
  await s.start();
  await s.users.add('alice', 'alice-pw');
  return s;
}

async function counter(name: string, protocol: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => v.labels.protocol === protocol)?.value ?? 0;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-login-guard-'));
  meta = await EmbeddedMetaStore.open(dir);
  metrics = new Metrics();
});
afterEach(async () => {
  for (const s of services.splice(0)) s.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe('password logins (MQTT CONNECT)', () => {
  it('refuses an address after maxFailures without checking the password, and counts both', async () => {
    const auth = await service();
    const verify = vi.spyOn(auth.users, 'verify');
    expect(await auth.authenticate('alice', 'wrong', '10.0.0.1:1')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await auth.authenticate('mallory', 'x', '10.0.0.1:2')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await auth.authenticate(undefined, undefined, '10.0.0.1:3')).toEqual({ ok: false, reason: 'missing-credentials' });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(await auth.authenticate('alice', 'alice-pw', '10.0.0.1:4')).toEqual({ ok: false, reason: 'too-many-failures' });
    expect(await auth.authenticate('alice', 'wrong', '::ffff:10.0.0.1:5')).toEqual({ ok: false, reason: 'too-many-failures' });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(await counter('robustmq_auth_failures_total', 'mqtt')).toBe(3);
    expect(await counter('robustmq_auth_refused_total', 'mqtt')).toBe(2);
    // Another address, and callers that give no address, are not affected.
    expect((await auth.authenticate('alice', 'alice-pw', '10.0.0.2:1')).ok).toBe(true);
    expect((await auth.authenticate('alice', 'alice-pw')).ok).toBe(true);
  });

  it('runs at most maxFailures password checks for a burst of concurrent wrong passwords', async () => {
    const auth = await service();
    const verify = vi.spyOn(auth.users, 'verify');
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => auth.authenticate('alice', `wrong-${i}`, `10.0.0.3:${i}`)));
    expect(verify).toHaveBeenCalledTimes(3);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'bad-credentials')).toHaveLength(3);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'too-many-failures')).toHaveLength(97);
    expect(await counter('robustmq_auth_failures_total', 'mqtt')).toBe(3);
    expect(await counter('robustmq_auth_refused_total', 'mqtt')).toBe(97);
  });

  it('MQTT hooks: a refused address throws TooManyFailedLogins; a client certificate is not guarded', async () => {
    const auth = await service({ authMaxFailures: 1 });
    const hooks = mqttAuthHooks(auth);
    const client = { clientId: 'c', username: 'alice', remoteAddress: '10.0.0.4:1', protocolVersion: 5 };
    expect(await hooks.authenticate(client, 'alice', Buffer.from('nope'))).toBe(false);
    await expect(hooks.authenticate(client, 'alice', Buffer.from('alice-pw'))).rejects.toBeInstanceOf(TooManyFailedLogins);
    expect(await hooks.authenticate({ ...client, username: undefined, certificateUser: 'alice' }, undefined, undefined)).toEqual({ user: 'alice' });
  });

  it('with --auth-max-failures 0 checks every attempt', async () => {
    const auth = await service({ authMaxFailures: 0 });
    for (let i = 0; i < 5; i++) expect(await auth.authenticate('alice', 'wrong', '10.0.0.5:1')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect((await auth.authenticate('alice', 'alice-pw', '10.0.0.5:1')).ok).toBe(true);
    expect(await counter('robustmq_auth_failures_total', 'mqtt')).toBe(5);
  });
});

/** A SCRAM-SHA-256 client-final for `password`, from the server-first message. */
function scramFinal(bare: string, serverFirst: string, password: string): string {
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const withoutProof = `c=biws,r=${attrs.r}`;
  const signature = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(`${bare},${serverFirst},${withoutProof}`).digest();
  return `${withoutProof},p=${Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64')}`;
}

async function scram(auth: AuthService, address: string, password: string) {
  const exchange = auth.saslExchange('SCRAM-SHA-256', address)!;
  const bare = 'n=alice,r=abcdefghijklmnop';
  const first = await exchange.step(Buffer.from(`n,,${bare}`));
  if (first.kind !== 'continue') return first;
  return exchange.step(Buffer.from(scramFinal(bare, first.challenge.toString(), password)));
}

describe('SASL exchanges (Kafka)', () => {
  it('PLAIN: counts wrong passwords, then fails the first token at once', async () => {
    const auth = await service();
    const verify = vi.spyOn(auth.users, 'verify');
    for (let i = 0; i < 3; i++) {
      const result = await auth.saslExchange('PLAIN', `10.0.1.1:${i}`)!.step(Buffer.from('\u0000alice\u0000wrong'));
      expect(result).toEqual({ kind: 'failure', reason: AUTHENTICATION_FAILED });
    }
    const refused = await auth.saslExchange('PLAIN', '10.0.1.1:9')!.step(Buffer.from('\u0000alice\u0000alice-pw'));
    expect(refused).toEqual({ kind: 'failure', reason: REFUSED_REASON });
    expect(REFUSED_REASON).toMatch(/too many failed logins/);
    expect(verify).toHaveBeenCalledTimes(3);
    expect(await counter('robustmq_auth_failures_total', 'kafka')).toBe(3);
    expect(await counter('robustmq_auth_refused_total', 'kafka')).toBe(1);
    expect((await auth.saslExchange('PLAIN', '10.0.1.2:1')!.step(Buffer.from('\u0000alice\u0000alice-pw'))).kind).toBe('success');
  });

  it('SCRAM: a wrong proof counts; a refused address gets no salt and no credential lookup', async () => {
    const auth = await service();
    expect((await scram(auth, '10.0.1.3:1', 'alice-pw')).kind).toBe('success');
    for (let i = 0; i < 3; i++) expect(await scram(auth, '10.0.1.3:1', 'wrong')).toEqual({ kind: 'failure', reason: AUTHENTICATION_FAILED });
    const lookup = vi.spyOn(auth.users, 'scramCredential');
    expect(await scram(auth, '10.0.1.3:1', 'alice-pw')).toEqual({ kind: 'failure', reason: REFUSED_REASON });
    expect(lookup).not.toHaveBeenCalled();
    expect(await counter('robustmq_auth_failures_total', 'kafka')).toBe(3);
  });

  it('a malformed message is not a failed login', async () => {
    const auth = await service();
    for (let i = 0; i < 10; i++) expect((await auth.saslExchange('PLAIN', '10.0.1.4:1')!.step(Buffer.from('garbage'))).kind).toBe('failure');
    expect((await auth.saslExchange('PLAIN', '10.0.1.4:1')!.step(Buffer.from('\u0000alice\u0000alice-pw'))).kind).toBe('success');
    expect(await counter('robustmq_auth_failures_total', 'kafka')).toBe(0);
  });

  it('failures from one protocol count for the other (one address, one scrypt pool)', async () => {
    const auth = await service();
    for (let i = 0; i < 3; i++) await auth.authenticate('alice', 'wrong', '10.0.1.5:1');
    expect(await auth.saslExchange('PLAIN', '10.0.1.5:2')!.step(Buffer.from('\u0000alice\u0000alice-pw'))).toEqual({ kind: 'failure', reason: REFUSED_REASON });
  });
});
