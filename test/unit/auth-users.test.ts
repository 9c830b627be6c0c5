/**
 * Users and the AuthService: salted scrypt hashes and SCRAM credentials in the MetaStore (never the password),
 * password checks, refusal kinds for MQTT (missing vs wrong credentials), auth off letting everyone in, the admin
 * token check, and users created elsewhere becoming usable through the store's change notifications.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mqttAuthHooks } from '../../runtime/core/auth/mqtt-hooks.js';
import { AuthService, type AuthSettings } from '../../runtime/core/auth/service.js';
import type { UserRecord } from '../../runtime/core/auth/types.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { MetaStore } from '../../runtime/meta/store.js';

let dir: string;
let meta: MetaStore;
const services: AuthService[] = [];
const silent = pino({ level: 'silent' });

function service(overrides: Partial<AuthSettings> = {}): AuthService {
  const s = new AuthService(meta, { auth: 'on', aclNoMatch: 'allow', scramIterations: 4096, ...overrides }, silent);
  services.push(s);
  return s;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-users-'));
  meta = await EmbeddedMetaStore.open(dir);
});
afterEach(async () => {
  for (const s of services.splice(0)) s.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe('UserStore', () => {
  it('stores a salted scrypt hash and SCRAM-SHA-256/512 credentials, and no password', async () => {
    const auth = service();
    await auth.start();
    const summary = await auth.users.add('alice', 'correct horse');
    expect(summary).toMatchObject({ name: 'alice', mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    const stored = (await meta.get<UserRecord>('users', 'alice'))!.value;
    expect(JSON.stringify(stored)).not.toContain('correct horse');
    expect(stored.password).toMatchObject({ scheme: 'scrypt', n: 16384, r: 8, p: 1 });
    expect(Buffer.from(stored.password.salt, 'base64')).toHaveLength(16);
    expect(stored.scram['SCRAM-SHA-256']).toMatchObject({ iterations: 4096 });
    expect(Buffer.from(stored.scram['SCRAM-SHA-512'].storedKey, 'base64')).toHaveLength(64);
    await auth.users.add('bob', 'correct horse');
    const bob = (await meta.get<UserRecord>('users', 'bob'))!.value;
    expect(bob.password.hash).not.toBe(stored.password.hash);
  });

  it('verifies passwords, refuses duplicates and invalid names, deletes', async () => {
    const auth = service();
    await auth.start();
    await auth.users.add('alice', 'pw-1');
    expect(await auth.users.verify('alice', 'pw-1')).toBe(true);
    expect(await auth.users.verify('alice', 'pw-2')).toBe(false);
    expect(await auth.users.verify('nobody', 'pw-1')).toBe(false);
    await expect(auth.users.add('alice', 'x')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(auth.users.add('*', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(auth.users.add('bob', '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await auth.users.delete('alice');
    expect(await auth.users.verify('alice', 'pw-1')).toBe(false);
    await expect(auth.users.delete('alice')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(auth.users.list()).toEqual([]);
  });

  it('sees users another writer added (watch), and users not yet seen (store lookup)', async () => {
    const a = service();
    const b = service();
    await a.start();
    await b.start();
    await a.users.add('carol', 'pw');
    expect(await b.users.verify('carol', 'pw')).toBe(true);
    expect(b.users.list().map((u) => u.name)).toEqual(['carol']);
  });
});

describe('AuthService', () => {
  it('tells missing credentials from wrong ones (MQTT: not authorized vs bad user name or password)', async () => {
    const auth = service();
    await auth.start();
    await auth.users.add('alice', 'pw');
    expect(await auth.authenticate('alice', Buffer.from('pw'))).toEqual({ ok: true, principal: { user: 'alice', mechanism: 'password' } });
    expect(await auth.authenticate('alice', 'nope')).toEqual({ ok: false, reason: 'bad-credentials' });
    expect(await auth.authenticate(undefined, undefined)).toEqual({ ok: false, reason: 'missing-credentials' });
    expect(await auth.authenticate('alice', undefined)).toEqual({ ok: false, reason: 'missing-credentials' });
  });

  it('with auth off lets everyone in and does not enforce ACLs', async () => {
    const auth = service({ auth: 'off', aclNoMatch: 'deny' });
    await auth.start();
    expect(await auth.authenticate(undefined, undefined)).toEqual({ ok: true, principal: { user: null } });
    expect(auth.authorize({ user: null }, 'produce', { type: 'topic', name: 't' })).toBe(true);
    expect(auth.adminToken).toBeUndefined();
    expect(auth.adminAuthorized(undefined)).toBe(true);
  });

  it('generates an admin token with auth on and checks the bearer header', async () => {
    const auth = service();
    expect(auth.adminToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(auth.adminAuthorized(`Bearer ${auth.adminToken}`)).toBe(true);
    expect(auth.adminAuthorized(`bearer ${auth.adminToken}`)).toBe(true);
    expect(auth.adminAuthorized(`Bearer ${auth.adminToken}x`)).toBe(false);
    expect(auth.adminAuthorized(undefined)).toBe(false);
    const fixed = service({ adminToken: 'a-fixed-token-of-some-length' });
    expect(fixed.adminToken).toBe('a-fixed-token-of-some-length');
  });

  it('backs the MQTT hooks: password at CONNECT, ACLs with %u/%c on PUBLISH and SUBSCRIBE', async () => {
    const auth = service({ aclNoMatch: 'deny' });
    await auth.start();
    await auth.users.add('dev', 'pw');
    await auth.acls.add({ principal: '*', effect: 'allow', action: 'publish', resourceType: 'mqtt', pattern: 'up/%u/%c' });
    await auth.acls.add({ principal: 'dev', effect: 'allow', action: 'subscribe', resourceType: 'mqtt', pattern: 'down/#' });
    const hooks = mqttAuthHooks(auth);
    const client = { clientId: 'c1', username: 'dev', remoteAddress: '127.0.0.1:1', protocolVersion: 5 };
    expect(await hooks.authenticate(client, 'dev', Buffer.from('pw'))).toBe(true);
    expect(await hooks.authenticate(client, 'dev', Buffer.from('px'))).toBe(false);
    expect(hooks.authorizePublish(client, 'up/dev/c1')).toBe(true);
    expect(hooks.authorizePublish(client, 'up/dev/c2')).toBe(false);
    expect(hooks.authorizeSubscribe(client, 'down/+')).toBe(true);
    expect(hooks.authorizeSubscribe(client, 'up/#')).toBe(false);
  });
});
