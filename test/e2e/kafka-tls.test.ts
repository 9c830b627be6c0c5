/**
 * Kafka over TLS with a CA and certificates made in the test (openssl): SSL and SASL_SSL with kcat and kafkajs,
 * client certificates requested and verified with --tls-ca (the certificate's CN is the principal with --auth on),
 * TLS-only nodes (--no-plain-listeners), and clear start-up errors for unusable files.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf } from '../../runtime/core/auth/service.js';
import { consumeAll, kcat } from '../helpers/kafka-kcat.js';
import { startTestNode, tempDir, type TestNode } from '../helpers/node.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki('alice');
}, 60_000);
afterAll(() => pki.remove());

const ssl = () => ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${pki.caCert}`];
const clientCert = () => ['-X', `ssl.certificate.location=${pki.clientCert}`, '-X', `ssl.key.location=${pki.clientKey}`];

describe('SSL (--tls-cert, --tls-key)', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, kafkaTlsPort: 0 });
  });
  afterAll(() => node.destroy());

  it('serves kcat over TLS beside the plain listener, advertising the TLS port to TLS clients', async () => {
    const tlsPort = node.ports.kafkaTls;
    expect(tlsPort).toBeGreaterThan(0);
    expect(node.ports.kafka).toBeGreaterThan(0);
    const { stdout } = await kcat(tlsPort, ['-L', '-J', ...ssl()]);
    expect(JSON.parse(stdout).brokers).toEqual([{ id: 0, name: `127.0.0.1:${tlsPort}` }]);
    await kcat(tlsPort, ['-P', '-t', 'secure', ...ssl()], 's1\ns2\n');
    expect((await consumeAll(tlsPort, 'secure', ssl())).map((m) => m.payload)).toEqual(['s1', 's2']);
    expect((await consumeAll(node.ports.kafka, 'secure')).map((m) => m.payload)).toEqual(['s1', 's2']);
  });

  it('is refused by a client that does not trust the server certificate', async () => {
    const args = ['-L', '-m', '3', '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${pki.strangerCert}`];
    await expect(kcat(node.ports.kafkaTls, args, '', 15_000)).rejects.toThrow(/certificate verify failed|SSL handshake failed/i);
  });

  it('serves kafkajs over TLS', async () => {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${node.ports.kafkaTls}`],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(pki.caCert, 'utf8')] },
    });
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('secure');
    await admin.disconnect();
  });
});

describe('SASL_SSL (--auth on with TLS)', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ auth: 'on', tlsCert: pki.serverCert, tlsKey: pki.serverKey, kafkaTlsPort: 0, plainListeners: false });
    await authOf(node.context).users.add('carol', 'carol-pw');
  });
  afterAll(() => node.destroy());

  it('opens only the TLS listener with --no-plain-listeners', () => {
    expect(node.ports.kafka).toBeUndefined();
    expect(node.ports.kafkaTls).toBeGreaterThan(0);
  });

  it('authenticates kcat with SCRAM-SHA-512 over TLS and refuses a wrong password', async () => {
    const saslSsl = (password: string) => [
      '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${pki.caCert}`,
      '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=carol', '-X', `sasl.password=${password}`,
    ];
    await kcat(node.ports.kafkaTls, ['-P', '-t', 'sasl-ssl', ...saslSsl('carol-pw')], 'x\n');
    expect((await consumeAll(node.ports.kafkaTls, 'sasl-ssl', saslSsl('carol-pw'))).map((m) => m.payload)).toEqual(['x']);
    await expect(kcat(node.ports.kafkaTls, ['-L', '-m', '3', ...saslSsl('nope')], '', 15_000)).rejects.toThrow(/Authentication failed/i);
  });

  it('authenticates kafkajs with SASL PLAIN over TLS', async () => {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${node.ports.kafkaTls}`],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(pki.caCert, 'utf8')] },
      sasl: { mechanism: 'plain', username: 'carol', password: 'carol-pw' },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'sasl-ssl', messages: [{ value: 'y' }] });
    await producer.disconnect();
    expect(await node.context.topics.partition('sasl-ssl', 0).highWatermark()).toBe(2);
  });

  it('refuses SSL without SASL when auth is on', async () => {
    await expect(kcat(node.ports.kafkaTls, ['-L', '-m', '3', ...ssl()], '', 15_000)).rejects.toThrow();
  });
});

describe('client certificates (--tls-ca)', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({
      auth: 'on',
      aclNoMatch: 'deny',
      tlsCert: pki.serverCert,
      tlsKey: pki.serverKey,
      tlsCa: pki.caCert,
      kafkaTlsPort: 0,
    });
    await authOf(node.context).acls.add({ principal: 'alice', effect: 'allow', action: 'produce', resourceType: 'topic', pattern: 'certs' });
    await authOf(node.context).acls.add({ principal: 'alice', effect: 'allow', action: 'create', resourceType: 'topic', pattern: 'certs' });
  });
  afterAll(() => node.destroy());

  it('authenticates a verified client certificate as its common name, with that user\'s ACLs', async () => {
    await kcat(node.ports.kafkaTls, ['-P', '-t', 'certs', ...ssl(), ...clientCert()], 'c\n');
    expect(await node.context.topics.partition('certs', 0).highWatermark()).toBe(1);
    const denied = kcat(node.ports.kafkaTls, ['-P', '-t', 'other', ...ssl(), ...clientCert()], 'c\n', 15_000);
    await expect(denied).rejects.toThrow(/Topic authorization failed/i);
  });

  it('refuses a client without a certificate, or with one from another CA', async () => {
    await expect(kcat(node.ports.kafkaTls, ['-L', '-m', '3', ...ssl()], '', 15_000)).rejects.toThrow();
    const stranger = ['-X', `ssl.certificate.location=${pki.strangerCert}`, '-X', `ssl.key.location=${pki.strangerKey}`];
    await expect(kcat(node.ports.kafkaTls, ['-L', '-m', '3', ...ssl(), ...stranger], '', 15_000)).rejects.toThrow();
  });
});

describe('start-up errors', () => {
  it('names an unreadable certificate file', async () => {
    const dataDir = await tempDir();
    await expect(startTestNode({ dataDir, tlsCert: '/nonexistent/server.crt', tlsKey: pki.serverKey, kafkaTlsPort: 0 })).rejects.toThrow(
      'cannot read --tls-cert /nonexistent/server.crt: ENOENT',
    );
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses --no-plain-listeners without TLS', async () => {
    const dataDir = await tempDir();
    await expect(startTestNode({ dataDir, plainListeners: false })).rejects.toThrow(/--no-plain-listeners needs --tls-cert/);
    await rm(dataDir, { recursive: true, force: true });
  });
});
