/**
 * The admin API with --auth on: a generated bearer token (logged once) or --admin-token guards /api/v1, while
 * /healthz and /metrics stay open; users and ACL rules are managed under /api/v1/users and /api/v1/acls, and no
 * password or hash ever appears in an answer or a log line. With auth off the API stays open.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf } from '../../runtime/core/auth/service.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const PASSWORD = 'pa55-word-that-must-not-leak';

function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (res) => {
    const text = await res.text();
    const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
    return { status: res.status, headers: res.headers, text, json };
  });
}

describe('admin API with --auth on and a generated token', () => {
  let node: TestNode;
  let base: string;
  let token: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    node = await startTestNode({ auth: 'on' }, { log: pino({ level: 'debug' }, sink) });
    base = `http://127.0.0.1:${node.ports.admin}`;
    const generated = logs.map((l) => JSON.parse(l)).filter((l) => l.adminToken);
    expect(generated).toHaveLength(1);
    token = generated[0].adminToken;
    expect(token).toBe(authOf(node.context).adminToken);
  });
  afterAll(() => node.destroy());

  it('keeps /healthz and /metrics open', async () => {
    expect((await call(base, 'GET', '/healthz')).status).toBe(200);
    expect((await call(base, 'GET', '/metrics')).status).toBe(200);
  });

  it('answers 401 without the token or with a wrong one, on every /api/v1 route', async () => {
    for (const path of ['/api/v1/topics', '/api/v1/users', '/api/v1/acls', '/api/v1/cluster', '/api/v1/nothing']) {
      const anonymous = await call(base, 'GET', path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(anonymous.json.error.code).toBe('UNAUTHENTICATED');
      expect((await call(base, 'GET', path, `${token}x`)).status).toBe(401);
    }
    expect((await call(base, 'POST', '/api/v1/users', undefined, { name: 'eve', password: 'x' })).status).toBe(401);
    expect(authOf(node.context).users.list()).toEqual([]);
    expect((await call(base, 'GET', '/api/v1/topics', token)).status).toBe(200);
  });

  it('adds, lists and deletes users, never showing or logging the password or its hash', async () => {
    const created = await call(base, 'POST', '/api/v1/users', token, { name: 'alice', password: PASSWORD });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'alice', mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    expect(Object.keys(created.json).sort()).toEqual(['createdAt', 'mechanisms', 'name']);
    expect((await call(base, 'POST', '/api/v1/users', token, { name: 'alice', password: 'other' })).status).toBe(409);
    expect((await call(base, 'POST', '/api/v1/users', token, { name: 'bad name', password: 'x' })).status).toBe(400);
    expect((await call(base, 'POST', '/api/v1/users', token, { name: 'bob' })).status).toBe(400);
    const listed = await call(base, 'GET', '/api/v1/users', token);
    expect(listed.json.users.map((u: { name: string }) => u.name)).toEqual(['alice']);
    expect(listed.text).not.toContain('hash');
    expect((await authOf(node.context).authenticate('alice', PASSWORD)).ok).toBe(true);
    expect((await call(base, 'DELETE', '/api/v1/users/alice', token)).status).toBe(204);
    expect((await call(base, 'DELETE', '/api/v1/users/alice', token)).status).toBe(404);
    expect(logs.join('\n')).not.toContain(PASSWORD);
  });

  it('adds, lists (by principal) and deletes ACL rules, refusing invalid ones', async () => {
    const rule = { principal: 'alice', effect: 'deny', action: 'subscribe', resourceType: 'mqtt', pattern: 'secret/#' };
    const created = await call(base, 'POST', '/api/v1/acls', token, rule);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...rule, id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await call(base, 'POST', '/api/v1/acls', token, rule)).status).toBe(409);
    expect((await call(base, 'POST', '/api/v1/acls', token, { ...rule, action: 'produce' })).status).toBe(400);
    await call(base, 'POST', '/api/v1/acls', token, { principal: '*', effect: 'allow', action: 'consume', resourceType: 'group', pattern: 'g-*' });
    const mine = await call(base, 'GET', '/api/v1/acls?principal=alice', token);
    expect(mine.json).toEqual({ acls: [created.json], enforced: true });
    expect((await call(base, 'GET', '/api/v1/acls', token)).json.acls).toHaveLength(2);
    expect(authOf(node.context).authorize({ user: 'alice' }, 'subscribe', { type: 'mqtt', name: 'secret/x' })).toBe(false);
    expect((await call(base, 'DELETE', `/api/v1/acls/${created.json.id}`, token)).status).toBe(204);
    expect((await call(base, 'DELETE', `/api/v1/acls/${created.json.id}`, token)).status).toBe(404);
    expect(authOf(node.context).authorize({ user: 'alice' }, 'subscribe', { type: 'mqtt', name: 'secret/x' })).toBe(true);
    expect((await call(base, 'PUT', '/api/v1/acls', token)).status).toBe(405);
  });
});

describe('admin API with --admin-token', () => {
  it('accepts exactly the configured token and logs none', async () => {
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    // info: the debug-level "effective configuration" line of runtime/node.ts still shows every config value.
    const node = await startTestNode({ auth: 'on', adminToken: 'my-own-admin-token-123' }, { log: pino({ level: 'info' }, sink) });
    const base = `http://127.0.0.1:${node.ports.admin}`;
    expect((await call(base, 'GET', '/api/v1/users', 'my-own-admin-token-123')).status).toBe(200);
    expect((await call(base, 'GET', '/api/v1/users', 'my-own-admin-token-12')).status).toBe(401);
    expect(logs.join('\n')).not.toContain('my-own-admin-token-123');
    await node.destroy();
  });
});

describe('admin API with --auth off', () => {
  it('needs no token, warns at start that auth is off, and says ACLs are not enforced', async () => {
    const logs: Array<{ msg: string; level: number }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const node = await startTestNode({}, { log: pino({ level: 'info' }, sink) });
    const base = `http://127.0.0.1:${node.ports.admin}`;
    expect((await call(base, 'GET', '/api/v1/acls')).json).toEqual({ acls: [], enforced: false });
    expect(logs.filter((l) => l.level === 40 && /authentication is off/.test(l.msg))).toHaveLength(1);
    await node.destroy();
  });
});
