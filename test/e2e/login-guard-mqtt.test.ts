/**
 * A login flood over MQTT with --auth on: 1,000 wrong-password CONNECTs from 127.0.0.1 (raw sockets, 200 at once,
 * v5 and 3.1.1) get 0x86 / 4 for the first --auth-max-failures of them and 0x8A Banned / 5 for the rest, without a
 * password check; meanwhile mqtt.js logs in from 127.0.0.2. Afterwards the flooding address is refused even with the
 * right password (TCP and WebSocket listeners), other addresses are not, and /metrics counted it all.
 */
import type { ErrorWithReasonCode } from 'mqtt';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttServer } from '../../protocols/mqtt/server.js';
import { authOf } from '../../runtime/core/auth/service.js';
import { connectClient, endAll } from '../helpers/mqtt.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { flood, metricValue, mqttClientFrom, mqttConnectCode } from '../helpers/login-guard.js';

const MAX_FAILURES = 10;
const FLOOD = 1000;
let node: TestNode;
const warnings: string[] = [];
const lines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        lines.push(entry.msg);
        if (entry.level >= 40) warnings.push(entry.msg);
      }
      done();
    },
  });
  node = await startTestNode(
    { auth: 'on', adminToken: 'login-guard-mqtt-token', mqttSysIntervalMs: 0, authMaxFailures: MAX_FAILURES },
    { protocols: [(ctx) => createMqttServer(ctx)], log: pino({ level: 'info' }, sink) },
  );
  await authOf(node.context).users.add('alice', 'alice-pw');
}, 60_000);
afterAll(() => node?.destroy());

const metric = (name: string) => metricValue(node.ports.admin, name, 'mqtt');
const refusal = (p: Promise<unknown>) => p.then(() => 0, (err: ErrorWithReasonCode) => err.code);

describe('an MQTT login flood from one address', () => {
  it('is refused fast after the limit, while another address logs in; clients see 0x8A / 5', async () => {
    const failuresBefore = await metric('robustmq_auth_failures_total');
    const refusedBefore = await metric('robustmq_auth_refused_total');
    const started = Date.now();
    const flooding = flood(FLOOD, 200, (i) =>
      mqttConnectCode({ port: node.ports.mqtt, version: i % 2 === 0 ? 5 : 4, username: 'alice', password: `wrong-${i}` }),
    );

    // While the flood goes on: the right password from another address gets in.
    const loginStarted = Date.now();
    const other = await mqttClientFrom('127.0.0.2', node.ports.mqtt, { username: 'alice', password: 'alice-pw' });
    const otherMs = Date.now() - loginStarted;
    expect(other.connected).toBe(true);
    expect(otherMs).toBeLessThan(5_000);
    await endAll(other);

    const codes = await flooding;
    const floodMs = Date.now() - started;
    const v5 = codes.filter((_, i) => i % 2 === 0);
    const v4 = codes.filter((_, i) => i % 2 === 1);
    const bad = v5.filter((c) => c === 0x86).length + v4.filter((c) => c === 4).length;
    expect(bad).toBe(MAX_FAILURES);
    expect(v5.every((c) => c === 0x86 || c === 0x8a)).toBe(true);
    expect(v4.every((c) => c === 4 || c === 5)).toBe(true);
    expect(v5.filter((c) => c === 0x8a).length + v4.filter((c) => c === 5).length).toBe(FLOOD - MAX_FAILURES);
    expect(floodMs).toBeLessThan(60_000); // far less in practice: only MAX_FAILURES scrypt checks ran

    expect((await metric('robustmq_auth_failures_total')) - failuresBefore).toBe(MAX_FAILURES);
    expect((await metric('robustmq_auth_refused_total')) - refusedBefore).toBe(FLOOD - MAX_FAILURES);
    expect(warnings.filter((w) => w === `login attempts refused from 127.0.0.1: ${MAX_FAILURES} failures in 60000 ms`)).toHaveLength(1);
  });

  it('refuses the flooding address even with the right password, on TCP and WebSocket; other addresses log in', async () => {
    const creds = { username: 'alice', password: 'alice-pw' };
    const mqttUrl = `mqtt://127.0.0.1:${node.ports.mqtt}`;
    expect(await refusal(connectClient(mqttUrl, { ...creds, protocolVersion: 5 }))).toBe(0x8a);
    expect(await refusal(connectClient(mqttUrl, { ...creds, protocolVersion: 4 }))).toBe(5);
    expect(await refusal(connectClient(mqttUrl, { protocolVersion: 5 }))).toBe(0x8a); // no credentials: refused as well
    expect(await refusal(connectClient(`ws://127.0.0.1:${node.ports.ws}/mqtt`, { ...creds, protocolVersion: 5 }))).toBe(0x8a);

    for (const address of ['127.0.0.2', '127.0.0.3']) {
      const ok = await mqttClientFrom(address, node.ports.mqtt, { ...creds, protocolVersion: 4 });
      expect(ok.connected).toBe(true);
      await endAll(ok);
    }
    expect(await refusal(mqttClientFrom('127.0.0.3', node.ports.mqtt, { username: 'alice', password: 'nope' }))).toBe(0x86);
    // Still one line for the flooding address: refusals are not logged one by one.
    expect(warnings.filter((w) => w.startsWith('login attempts refused from 127.0.0.1'))).toHaveLength(1);
    expect(lines.filter((l) => /too many failed logins/.test(l))).toHaveLength(0);
    expect(lines.filter((l) => /closing connection: authentication failed/.test(l)).length).toBeGreaterThanOrEqual(MAX_FAILURES);
  });
});
