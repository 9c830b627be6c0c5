/**
 * MQTT with --auth on, through real clients: users created with the admin API and the AuthService, CONNECT refused
 * with the right code (3.1.1: 4 bad user name or password, 5 not authorized; v5: 0x86, 0x87) for mosquitto_pub and
 * mqtt.js, ACLs on PUBLISH (v5 PUBACK 0x87; 3.1.1 acknowledged, dropped and logged), on SUBSCRIBE (SUBACK 0x80 /
 * 0x87) and on the will topic, with %u and %c filled from the connection.
 */
import { Writable } from 'node:stream';
import type { ErrorWithReasonCode, ErrorWithSubackPacket, MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttServer } from '../../protocols/mqtt/server.js';
import { authOf } from '../../runtime/core/auth/service.js';
import { collect, connectClient, endAll, mosquitto, sleep, waitFor } from '../helpers/mqtt.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const TOKEN = 'mqtt-security-admin-token';
let node: TestNode;
let url: string;
let port: string;
const logs: Array<Record<string, unknown>> = [];

async function admin(path: string, body: unknown): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${node.ports.admin}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const rule = (principal: string, action: 'publish' | 'subscribe', pattern: string) =>
  admin('/api/v1/acls', { principal, effect: 'allow', action, resourceType: 'mqtt', pattern });

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  node = await startTestNode(
    { auth: 'on', adminToken: TOKEN, aclNoMatch: 'deny', mqttSysIntervalMs: 0 },
    { protocols: [(ctx) => createMqttServer(ctx)], log: pino({ level: 'info' }, sink) },
  );
  url = `mqtt://127.0.0.1:${node.ports.mqtt}`;
  port = String(node.ports.mqtt);
  expect(await admin('/api/v1/users', { name: 'alice', password: 'alice-pw' })).toBe(201);
  await authOf(node.context).users.add('bob', 'bob-pw');
  for (const [who, action, pattern] of [
    ['*', 'publish', 'open/#'],
    ['*', 'subscribe', 'open/#'],
    ['*', 'publish', 'devices/%c/#'],
    ['*', 'subscribe', 'users/%u/#'],
    ['bob', 'subscribe', 'closed/#'],
    ['alice', 'publish', 'will/alice'],
  ] as const) {
    expect(await rule(who, action, pattern)).toBe(201);
  }
}, 60_000);
afterAll(() => node?.destroy());

const pub = (args: string[]) => mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, ...args]);
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: ErrorWithReasonCode) => err.code);

/** The SUBACK codes mqtt.js got (it rejects when any is a failure, with the packet attached). */
const granted = (client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> =>
  client.subscribeAsync(filters, { qos }).then(
    (grants) => grants.map((g) => g.qos),
    (err: ErrorWithSubackPacket) => (err.packet as { granted: number[] }).granted,
  );

describe('CONNECT authentication', () => {
  it('mosquitto_pub: accepted with the right password, refused with 4 for a wrong one and 5 without credentials', async () => {
    const sub = await connectClient(url, { username: 'bob', password: 'bob-pw', clientId: 'bob-sub' });
    const got = collect(sub);
    await sub.subscribeAsync('open/#', { qos: 1 });
    const ok = await pub(['-V', 'mqttv311', '-u', 'alice', '-P', 'alice-pw', '-q', '1', '-t', 'open/a', '-m', 'hello']);
    expect(ok.code).toBe(0);
    await waitFor(() => got.length === 1);
    expect(got[0].payload).toBe('hello');

    const wrong = await pub(['-V', 'mqttv311', '-u', 'alice', '-P', 'nope', '-t', 'open/a', '-m', 'x']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password/i);
    const unknown = await pub(['-V', '5', '-u', 'mallory', '-P', 'alice-pw', '-t', 'open/a', '-m', 'x']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/bad user name or password/i);
    const anonymous = await pub(['-V', 'mqttv311', '-t', 'open/a', '-m', 'x']);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/not authori[sz]ed/i);
    await sleep(100);
    expect(got).toHaveLength(1);
    await endAll(sub);
  });

  it('mqtt.js: v5 refused with 0x86 (wrong password) and 0x87 (none), 3.1.1 with 4 and 5', async () => {
    expect(await refusal(connectClient(url, { protocolVersion: 5, username: 'alice', password: 'bad' }))).toBe(0x86);
    expect(await refusal(connectClient(url, { protocolVersion: 5 }))).toBe(0x87);
    expect(await refusal(connectClient(url, { protocolVersion: 5, username: 'alice' }))).toBe(0x87);
    expect(await refusal(connectClient(url, { protocolVersion: 4, username: 'bob', password: 'bad' }))).toBe(4);
    expect(await refusal(connectClient(url, { protocolVersion: 4 }))).toBe(5);
    const ok = await connectClient(url, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    expect(ok.connected).toBe(true);
    await endAll(ok);
  });

  it('refuses a will on a topic the user may not publish to (0x87 / 5), accepts an allowed one', async () => {
    const will = (topic: string) => ({ topic, payload: Buffer.from('bye'), qos: 0 as const, retain: false });
    const creds = { username: 'alice', password: 'alice-pw' };
    expect(await refusal(connectClient(url, { ...creds, protocolVersion: 5, will: will('closed/w') }))).toBe(0x87);
    const v4 = await pub(['-V', 'mqttv311', '-u', 'alice', '-P', 'alice-pw', '--will-topic', 'closed/w', '--will-payload', 'x', '-t', 'open/a', '-m', 'x']);
    expect(v4.code).not.toBe(0);
    expect(v4.stderr).toMatch(/not authori[sz]ed/i);
    const ok = await connectClient(url, { ...creds, protocolVersion: 5, will: will('will/alice') });
    await endAll(ok);
  });
});

describe('ACLs', () => {
  it('PUBLISH: v5 gets PUBACK 0x87; 3.1.1 (mosquitto_pub) is acknowledged, dropped and logged', async () => {
    const sub = await connectClient(url, { username: 'bob', password: 'bob-pw', clientId: 'bob-closed' });
    const got = collect(sub);
    await sub.subscribeAsync(['closed/#', 'open/#'], { qos: 1 });
    const v5 = await connectClient(url, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    expect(await refusal(v5.publishAsync('closed/v5', 'no', { qos: 1 }))).toBe(0x87);
    const v4 = await pub(['-V', 'mqttv311', '-u', 'alice', '-P', 'alice-pw', '-q', '1', '-t', 'closed/v4', '-m', 'no']);
    expect(v4.code).toBe(0); // acknowledged like any publish: 3.1.1 has no way to say no
    await v5.publishAsync('open/after', 'yes', { qos: 1 });
    await waitFor(() => got.length === 1);
    await sleep(100);
    expect(got.map((m) => m.topic)).toEqual(['open/after']);
    const denied = logs.filter((l) => l.msg === 'mqtt: publish refused by ACL');
    expect(denied.map((l) => l.topic)).toContain('closed/v5'); // the first in a second is logged, the rest counted
    expect(denied[0]).toMatchObject({ username: 'alice', action: 'publish' });
    await endAll(sub, v5);
  });

  it('SUBSCRIBE: 0x80 for 3.1.1 (mosquitto_sub, mqtt.js), 0x87 for v5', async () => {
    const sub = await mosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv311', '-u', 'alice', '-P', 'alice-pw', '-t', 'closed/#', '-C', '1', '-W', '3']);
    expect(sub.stderr).toMatch(/denied/i);
    const v4 = await connectClient(url, { protocolVersion: 4, username: 'alice', password: 'alice-pw' });
    expect(await granted(v4, ['closed/#', 'open/#'])).toEqual([0x80, 1]);
    const v5 = await connectClient(url, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    expect(await granted(v5, ['closed/#', 'open/#'])).toEqual([0x87, 1]);
    await endAll(v4, v5);
  });

  it('fills %c with the client identifier and %u with the user name', async () => {
    const c = await connectClient(url, { protocolVersion: 5, username: 'alice', password: 'alice-pw', clientId: 'dev1' });
    await c.publishAsync('devices/dev1/temp', '21', { qos: 1 });
    expect(await refusal(c.publishAsync('devices/dev2/temp', '21', { qos: 1 }))).toBe(0x87);
    expect(await granted(c, ['users/alice/#', 'users/bob/#'], 0)).toEqual([0, 0x87]);
    await endAll(c);
  });
});
