/**
 * Kafka SASL with --auth on: kcat (librdkafka) and kafkajs authenticate with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
 * (SaslHandshake v1 + SaslAuthenticate) and are refused with a wrong password; the legacy flow (SaslHandshake v0 then
 * raw length-prefixed tokens) works too; before authentication only ApiVersions and the SASL APIs are served, and
 * a connection that does not authenticate in time is closed.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Writable } from 'node:stream';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf } from '../../runtime/core/auth/service.js';
import { consumeAll, kcat } from '../helpers/kafka-kcat.js';
import { RawKafka, withSize } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let port: number;
const logLines: Array<{ msg: string; reason?: string; user?: string }> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  // These cases fail logins on purpose, more than the login guard's 10 a minute per address (login-guard tests cover it).
  node = await startTestNode({ auth: 'on', kafkaHandshakeTimeoutMs: 1500, authMaxFailures: 0 }, { log: pino({ level: 'info' }, sink) });
  port = node.ports.kafka;
  await authOf(node.context).users.add('alice', 'alice-secret');
  await authOf(node.context).users.add('bob', 'bob-secret');
}, 60_000);
afterAll(() => node.destroy());

const sasl = (mechanism: string, user: string, password: string) => [
  '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`,
];

describe('kcat (librdkafka) with SASL_PLAINTEXT', () => {
  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])('authenticates with %s, then produces and consumes', async (mechanism) => {
    const topic = `kcat-${mechanism.toLowerCase()}`;
    await kcat(port, ['-P', '-t', topic, ...sasl(mechanism, 'alice', 'alice-secret')], 'one\ntwo\n');
    const got = await consumeAll(port, topic, sasl(mechanism, 'bob', 'bob-secret'));
    expect(got.map((m) => m.payload)).toEqual(['one', 'two']);
    expect(logLines.some((l) => l.msg === 'kafka client authenticated' && l.user === 'bob')).toBe(true);
  });

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])('is refused with a wrong %s password', async (mechanism) => {
    const failed = await kcat(port, ['-L', '-m', '3', ...sasl(mechanism, 'alice', 'wrong')], '', 15_000).then(
      () => null,
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/Authentication failed|SASL authentication error/i);
    expect(logLines.some((l) => l.msg === 'closing kafka connection' && /authentication failed/i.test(l.reason ?? ''))).toBe(true);
  });

  it('is refused without SASL: the connection closes at the first request that is not ApiVersions', async () => {
    const failed = await kcat(port, ['-L', '-m', '3'], '', 15_000).then(() => null, (err: Error) => err.message);
    expect(failed).not.toBeNull();
    expect(logLines.some((l) => /Metadata v\d+ before SASL authentication/.test(l.reason ?? ''))).toBe(true);
  });
});

describe('kafkajs with SASL', () => {
  const client = (s: SASLOptions) =>
    new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'sasl-e2e', logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: s });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('authenticates with %s and produces', async (mechanism) => {
    const producer = client({ mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions).producer();
    await producer.connect();
    await producer.send({ topic: `kafkajs-${mechanism}`, messages: [{ value: 'hello' }] });
    await producer.disconnect();
    const got = await consumeAll(port, `kafkajs-${mechanism}`, sasl('PLAIN', 'alice', 'alice-secret'));
    expect(got.map((m) => m.payload)).toEqual(['hello']);
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('is refused with a wrong %s password', async (mechanism) => {
    const admin = client({ mechanism, username: 'alice', password: 'nope' } as SASLOptions).admin();
    await expect(admin.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    await admin.disconnect();
  });
});

describe('the wire protocol before authentication', () => {
  it('serves ApiVersions (listing both SASL APIs) and SaslHandshake, and names the mechanisms', async () => {
    const raw = await RawKafka.connect(port);
    const versions = await raw.request(18, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    const keys = versions.apiKeys.map((k: { apiKey: number }) => k.apiKey);
    expect(keys).toEqual(expect.arrayContaining([17, 36]));
    const bad = await raw.request(17, 1, { mechanism: 'GSSAPI' });
    expect(bad).toEqual({ errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    raw.close();
  });

  it('closes a connection that sends SaslAuthenticate before SaslHandshake', async () => {
    const raw = await RawKafka.connect(port);
    raw.post(36, 1, { authBytes: Buffer.from('\u0000alice\u0000alice-secret') });
    expect(await raw.nextFrame()).toBeNull();
  });

  it('closes a connection that does not authenticate within kafkaHandshakeTimeoutMs', async () => {
    const raw = await RawKafka.connect(port);
    await raw.request(18, 0, {});
    const started = Date.now();
    await raw.closedPromise;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(logLines.some((l) => l.reason === 'did not authenticate within 1500 ms')).toBe(true);
  });

  it('answers ILLEGAL_SASL_STATE to a second handshake after authentication', async () => {
    const raw = await RawKafka.connect(port);
    expect((await raw.request(17, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const auth = await raw.request(36, 2, { authBytes: Buffer.from('\u0000alice\u0000alice-secret') });
    expect(auth).toMatchObject({ errorCode: 0, errorMessage: null, sessionLifetimeMs: 0 });
    expect((await raw.request(17, 1, { mechanism: 'PLAIN' })).errorCode).toBe(34);
    expect((await raw.request(3, 4, { topics: [], allowAutoTopicCreation: false })).brokers).toHaveLength(1);
    raw.close();
  });

  it('answers SASL_AUTHENTICATION_FAILED with a reason, then closes', async () => {
    const raw = await RawKafka.connect(port);
    await raw.request(17, 1, { mechanism: 'PLAIN' });
    const auth = await raw.request(36, 1, { authBytes: Buffer.from('\u0000alice\u0000wrong') });
    expect(auth).toMatchObject({ errorCode: 58, errorMessage: 'Authentication failed: Invalid username or password' });
    await raw.closedPromise;
  });
});

describe('legacy SASL (SaslHandshake v0, then raw tokens)', () => {
  it('authenticates PLAIN with one raw token answered by an empty one', async () => {
    const raw = await RawKafka.connect(port);
    expect((await raw.request(17, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    raw.write(withSize(Buffer.from('\u0000bob\u0000bob-secret')));
    expect(await raw.nextFrame()).toEqual(Buffer.alloc(0));
    expect((await raw.request(3, 1, { topics: null })).brokers).toHaveLength(1);
    raw.close();
  });

  it('authenticates SCRAM-SHA-256 with raw client-first / client-final tokens', async () => {
    const raw = await RawKafka.connect(port);
    expect((await raw.request(17, 0, { mechanism: 'SCRAM-SHA-256' })).errorCode).toBe(0);
    const bare = 'n=bob,r=fyko+d2lbbFgONRv9qkxdawL';
    raw.write(withSize(Buffer.from(`n,,${bare}`)));
    const serverFirst = (await raw.nextFrame())!.toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    const salted = pbkdf2Sync('bob-secret', Buffer.from(attrs.s, 'base64'), Number(attrs.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const signature = createHmac('sha256', createHash('sha256').update(clientKey).digest())
      .update(`${bare},${serverFirst},${withoutProof}`)
      .digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
    raw.write(withSize(Buffer.from(`${withoutProof},p=${proof}`)));
    expect((await raw.nextFrame())!.toString()).toMatch(/^v=/);
    expect((await raw.request(3, 1, { topics: null })).brokers).toHaveLength(1);
    raw.close();
  });

  it('closes the connection on a wrong raw token', async () => {
    const raw = await RawKafka.connect(port);
    await raw.request(17, 0, { mechanism: 'PLAIN' });
    raw.write(withSize(Buffer.from('\u0000bob\u0000nope')));
    expect(await raw.nextFrame()).toBeNull();
  });
});

describe('auth off', () => {
  it('answers SaslHandshake with ILLEGAL_SASL_STATE, as a Kafka listener without SASL', async () => {
    const open = await startTestNode();
    const raw = await RawKafka.connect(open.ports.kafka);
    expect((await raw.request(17, 1, { mechanism: 'PLAIN' })).errorCode).toBe(34);
    expect((await raw.request(3, 1, { topics: null })).brokers).toHaveLength(1);
    raw.close();
    await open.destroy();
  });
});
