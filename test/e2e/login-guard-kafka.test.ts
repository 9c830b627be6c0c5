/**
 * A login flood over Kafka SASL with --auth on: 1,000 wrong SASL/PLAIN passwords from 127.0.0.1 (raw SaslHandshake
 * v1 + SaslAuthenticate, 200 connections at once) get SASL_AUTHENTICATION_FAILED (58) — for the first
 * --auth-max-failures of them as a wrong password, then saying there were too many failed logins, without a check —
 * while kafkajs logs in with SCRAM-SHA-512 from 127.0.0.2. Afterwards kafkajs (SCRAM) and the legacy raw-token flow
 * from the flooding address are refused even with the right password, other addresses are not, and /metrics
 * counted it all.
 */
import { Writable } from 'node:stream';
import type { SASLOptions } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHENTICATION_FAILED } from '../../runtime/core/auth/sasl.js';
import { authOf } from '../../runtime/core/auth/service.js';
import { RawKafka, withSize } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { flood, kafkaPlainLogin, kafkajsFrom, metricValue } from '../helpers/login-guard.js';

const MAX_FAILURES = 10;
const FLOOD = 1000;
const SASL_AUTHENTICATION_FAILED = 58;
let node: TestNode;

const logLines: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  node = await startTestNode({ auth: 'on', adminToken: 'login-guard-kafka-token', authMaxFailures: MAX_FAILURES }, { log: pino({ level: 'info' }, sink) });
  await authOf(node.context).users.add('alice', 'alice-pw');
}, 60_000);
afterAll(() => node?.destroy());

const metric = (name: string) => metricValue(node.ports.admin, name, 'kafka');
const scram = (password: string): SASLOptions => ({ mechanism: 'scram-sha-512', username: 'alice', password });

/** Connects a kafkajs admin from `address` and lists topics; the error message when refused. */
async function kafkajsLogin(address: string, password: string): Promise<string | null> {
  const admin = kafkajsFrom(address, node.ports.kafka, scram(password)).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return null;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    await admin.disconnect();
  }
}

describe('a Kafka SASL login flood from one address', () => {
  it('is refused fast after the limit with SASL_AUTHENTICATION_FAILED, while another address logs in', async () => {
    const failuresBefore = await metric('robustmq_auth_failures_total');
    const refusedBefore = await metric('robustmq_auth_refused_total');
    const started = Date.now();
    const flooding = flood(FLOOD, 200, (i) => kafkaPlainLogin(node.ports.kafka, 'alice', `wrong-${i}`));

    const loginStarted = Date.now();
    expect(await kafkajsLogin('127.0.0.2', 'alice-pw')).toBeNull();
    expect(Date.now() - loginStarted).toBeLessThan(5_000);

    const answers = await flooding;
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(answers.every((a) => a?.errorCode === SASL_AUTHENTICATION_FAILED)).toBe(true);
    const wrong = answers.filter((a) => a!.errorMessage === AUTHENTICATION_FAILED);
    const refused = answers.filter((a) => /too many failed logins/.test(a!.errorMessage ?? ''));
    expect(wrong).toHaveLength(MAX_FAILURES);
    expect(refused).toHaveLength(FLOOD - MAX_FAILURES);

    expect((await metric('robustmq_auth_failures_total')) - failuresBefore).toBe(MAX_FAILURES);
    expect((await metric('robustmq_auth_refused_total')) - refusedBefore).toBe(FLOOD - MAX_FAILURES);
    // Logged once for the address, not once per refused connection (a flood must not flood the log).
    const warnings = logLines.filter((l) => l.level >= 40);
    expect(warnings.filter((l) => /login attempts refused from/.test(l.msg))).toHaveLength(1);
    expect(warnings.length).toBeLessThanOrEqual(MAX_FAILURES + 5);
  });

  it('refuses the flooding address even with the right password (kafkajs SCRAM, raw v0 tokens); others log in', async () => {
    const refused = await kafkajsLogin('127.0.0.1', 'alice-pw');
    expect(refused).toMatch(/^KafkaJSSASLAuthenticationError: .*too many failed logins/);

    // SaslHandshake v0, then a raw PLAIN token: the connection closes without an answer, as for a wrong password.
    const raw = await RawKafka.connect(node.ports.kafka);
    expect((await raw.request(17, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    raw.write(withSize(Buffer.from('\u0000alice\u0000alice-pw')));
    expect(await raw.nextFrame()).toBeNull();

    expect(await kafkajsLogin('127.0.0.3', 'alice-pw')).toBeNull();
    expect(await kafkaPlainLogin(node.ports.kafka, 'alice', 'alice-pw', '127.0.0.3')).toEqual({ errorCode: 0, errorMessage: null });
    expect(await kafkaPlainLogin(node.ports.kafka, 'alice', 'nope', '127.0.0.3')).toEqual({
      errorCode: SASL_AUTHENTICATION_FAILED,
      errorMessage: AUTHENTICATION_FAILED,
    });
  });
});
