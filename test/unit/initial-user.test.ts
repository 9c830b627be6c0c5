/**
 * The initial user: created at start with auth on when missing (logged by name, never the password), left alone
 * when present (its password unchanged), created once when brokers on one store start together, not created with
 * auth off, and a name without a password (or the reverse) is a config error naming ROBUSTMQ_INITIAL_USER_PASSWORD.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService, type AuthSettings } from '../../runtime/core/auth/service.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { MetaStore } from '../../runtime/meta/store.js';

let dir: string;
let meta: MetaStore;
const services: AuthService[] = [];
let lines: string[];

function service(overrides: Partial<AuthSettings> = {}): AuthService {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const settings: AuthSettings = { auth: 'on', aclNoMatch: 'allow', adminToken: 'a-token-for-the-tests', scramIterations: 4096, ...overrides };
  const s = new AuthService(meta, settings, pino({ level: 'info' }, sink));
  services.push(s);
  return s;
}

const created = () => lines.filter((l) => JSON.parse(l).msg?.startsWith('created initial user'));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-initial-user-'));
  meta = await EmbeddedMetaStore.open(dir);
  lines = [];
});
afterEach(async () => {
  for (const s of services.splice(0)) s.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe('initial user', () => {
  it('is created at start when missing, logged by name and never with its password', async () => {
    const auth = service({ initialUser: 'admin', initialUserPassword: 'first-secret-pw' });
    await auth.start();
    expect(auth.users.list().map((u) => u.name)).toEqual(['admin']);
    expect((await auth.authenticate('admin', 'first-secret-pw')).ok).toBe(true);
    expect(created().map((l) => JSON.parse(l).msg)).toEqual(['created initial user admin']);
    expect(lines.join('\n')).not.toContain('first-secret-pw');
  });

  it('leaves an existing user and its password alone, and logs nothing', async () => {
    await service({ initialUser: 'admin', initialUserPassword: 'first-secret-pw' }).start();
    lines = [];
    const again = service({ initialUser: 'admin', initialUserPassword: 'another-password' });
    await again.start();
    expect(created()).toEqual([]);
    expect((await again.authenticate('admin', 'first-secret-pw')).ok).toBe(true);
    expect((await again.authenticate('admin', 'another-password')).ok).toBe(false);
  });

  it('is created once when several brokers on one store start at the same time', async () => {
    const brokers = Array.from({ length: 4 }, (_, i) => service({ initialUser: 'ops', initialUserPassword: `pw-${i}` }));
    await Promise.all(brokers.map((b) => b.start()));
    expect(created()).toHaveLength(1);
    const winner = JSON.parse(created()[0]);
    expect(winner.user).toBe('ops');
    const passes = await Promise.all(brokers.map((_, i) => brokers[0].users.verify('ops', `pw-${i}`)));
    expect(passes.filter(Boolean)).toHaveLength(1);
  });

  it('is not created with auth off', async () => {
    const auth = service({ auth: 'off', initialUser: 'admin', initialUserPassword: 'pw' });
    await auth.start();
    expect(auth.users.list()).toEqual([]);
  });

  it('needs its name and password together: a config error naming ROBUSTMQ_INITIAL_USER_PASSWORD', async () => {
    await expect(service({ initialUser: 'admin' }).start()).rejects.toMatchObject({
      name: 'RobustMQError',
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('ROBUSTMQ_INITIAL_USER_PASSWORD'),
    });
    await expect(service({ initialUserPassword: 'pw' }).start()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('ROBUSTMQ_INITIAL_USER_PASSWORD'),
    });
    await expect(service({ initialUser: 'no spaces', initialUserPassword: 'pw' }).start()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^--initial-user: user name must be/),
    });
  });
});
