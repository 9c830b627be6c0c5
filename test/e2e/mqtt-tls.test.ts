/**
 * MQTT over TLS with a CA and certificates made in the test (openssl): MQTTS with mosquitto_pub/mosquitto_sub
 * (--cafile) and mqtt.js (mqtts://), MQTT over secure WebSocket with mqtt.js (wss:// with the CA), user names and
 * passwords over TLS, TLS-only nodes (--no-plain-listeners), and client certificates required with --tls-ca whose
 * CN is the user when no user name is sent (so its ACLs apply), as for Kafka.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { ErrorWithReasonCode } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf } from '../../runtime/core/auth/service.js';
import { collect, connectClient, endAll, mosquitto, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

let pki: TestPki;
let ca: Buffer;

beforeAll(async () => {
  pki = await makeTestPki('alice');
  ca = readFileSync(pki.caCert);
}, 60_000);
afterAll(() => pki?.remove());

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: ErrorWithReasonCode) => err.code ?? err.message);

const CONNECT = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'raw', clean: true, keepalive: 0 });

/**
 * Sends CONNECT over `socket` (plain or TLS) and resolves once the server closed it, with how many bytes the
 * application read (a CONNACK, had the server accepted the connection). mqtt.js is no help here: a connection
 * closed before CONNACK leaves its connect pending.
 */
function refusedBeforeConnack(socket: net.Socket): Promise<{ read: number }> {
  return new Promise((resolve) => {
    let read = 0;
    socket.on('data', (d: Buffer) => (read += d.length));
    socket.on('error', () => undefined);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => socket.write(CONNECT));
    socket.once('close', () => resolve({ read }));
  });
}

describe('MQTTS and WSS with passwords (--tls-cert, --tls-key, --auth on)', () => {
  let node: MqttTestNode;
  beforeAll(async () => {
    node = await startMqttNode({ auth: 'on', tlsCert: pki.serverCert, tlsKey: pki.serverKey, mqttConnectTimeoutMs: 1500 });
    await authOf(node.context).users.add('alice', 'alice-pw');
  }, 30_000);
  afterAll(() => node?.destroy());

  it('opens MQTTS and WSS beside the plain listeners', () => {
    for (const name of ['mqtt', 'ws', 'mqttTls', 'wss']) expect(node.ports[name]).toBeGreaterThan(0);
  });

  it('carries mosquitto_pub --cafile over MQTTS to an mqtt.js subscriber over WSS, and mosquitto_sub gets mqtt.js over MQTTS', async () => {
    const creds = { username: 'alice', password: 'alice-pw' };
    const wss = await connectClient(`wss://127.0.0.1:${node.ports.wss}/mqtt`, { ...creds, ca, clientId: 'wss-sub' });
    const got = collect(wss);
    await wss.subscribeAsync('tls/#', { qos: 1 });
    const tlsArgs = ['-h', '127.0.0.1', '-p', String(node.ports.mqttTls), '--cafile', pki.caCert, '-u', 'alice', '-P', 'alice-pw'];
    const pub = await mosquitto('mosquitto_pub', [...tlsArgs, '-V', 'mqttv311', '-q', '1', '-t', 'tls/a', '-m', 'over-tls']);
    expect(pub.stderr).toBe('');
    expect(pub.code).toBe(0);
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'tls/a', payload: 'over-tls' });

    const sub = mosquitto('mosquitto_sub', [...tlsArgs, '-V', '5', '-t', 'tls/b', '-C', '1', '-W', '15', '-i', 'tls-sub']);
    // Spawn, TLS handshake and the password check take a while on a busy machine: wait for the subscription itself.
    await waitFor(() => node.server.broker.sessions.get('tls-sub')?.subscriptions.has('tls/b') === true, 10_000, 'mosquitto_sub to subscribe');
    const mqtts = await connectClient(`mqtts://127.0.0.1:${node.ports.mqttTls}`, { ...creds, ca, protocolVersion: 5 });
    await mqtts.publishAsync('tls/b', 'from-mqttjs', { qos: 1 });
    const received = await sub;
    expect(received.stdout.trim()).toBe('from-mqttjs');
    expect(received.code, received.stderr).toBe(0);
    await endAll(wss, mqtts);
  });

  it('refuses wrong passwords over TLS (0x86), clients that do not trust the server, and plain MQTT on the TLS port', async () => {
    expect(await refusal(connectClient(`mqtts://127.0.0.1:${node.ports.mqttTls}`, { ca, protocolVersion: 5, username: 'alice', password: 'x' }))).toBe(0x86);
    const wrongCa = await mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(node.ports.mqttTls), '-u', 'alice', '-P', 'alice-pw',
      '--cafile', pki.strangerCert, '-t', 't', '-m', 'x']);
    expect(wrongCa.code).not.toBe(0);
    // Plain MQTT on the TLS port is not TLS: closed without an answer.
    expect((await refusedBeforeConnack(net.connect(node.ports.mqttTls, '127.0.0.1'))).read).toBe(0);
    expect(await refusal(connectClient(`wss://127.0.0.1:${node.ports.wss}/mqtt`, { username: 'alice', password: 'alice-pw' }))).toBeDefined(); // no CA given
  });

  it('drops a connection that never starts its TLS handshake after the CONNECT timeout', async () => {
    for (const port of [node.ports.mqttTls, node.ports.wss]) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const started = Date.now();
      await new Promise((resolve) => socket.once('close', resolve));
      expect(Date.now() - started).toBeLessThan(1500 + 2000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    }
  });
});

describe('client certificates (--tls-ca) on a TLS-only node (--no-plain-listeners)', () => {
  let node: MqttTestNode;
  beforeAll(async () => {
    node = await startMqttNode({ auth: 'on', aclNoMatch: 'deny', plainListeners: false, tlsCert: pki.serverCert, tlsKey: pki.serverKey, tlsCa: pki.caCert });
    const acls = authOf(node.context).acls;
    for (const action of ['publish', 'subscribe'] as const) {
      await acls.add({ principal: 'alice', effect: 'allow', action, resourceType: 'mqtt', pattern: 'alice/#' });
    }
  }, 30_000);
  afterAll(() => node?.destroy());

  const certs = () => ({ ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });

  it('opens only the TLS listeners', async () => {
    expect(node.ports.mqtt).toBeUndefined();
    expect(node.ports.ws).toBeUndefined();
    expect(node.ports.mqttTls).toBeGreaterThan(0);
    expect(node.ports.wss).toBeGreaterThan(0);
  });

  it('takes the certificate CN as the user: its ACLs apply over MQTTS (mosquitto_pub) and WSS (mqtt.js)', async () => {
    const sub = await connectClient(`wss://127.0.0.1:${node.ports.wss}/mqtt`, { ...certs(), protocolVersion: 5, clientId: 'cert-sub' });
    const got = collect(sub);
    await sub.subscribeAsync('alice/#', { qos: 1 });
    const certArgs = ['-h', '127.0.0.1', '-p', String(node.ports.mqttTls), '--cafile', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey];
    const ok = await mosquitto('mosquitto_pub', [...certArgs, '-q', '1', '-t', 'alice/x', '-m', 'by-cert']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    await waitFor(() => got.length === 1);
    expect(got[0].payload).toBe('by-cert');
    const mqtts = await connectClient(`mqtts://127.0.0.1:${node.ports.mqttTls}`, { ...certs(), protocolVersion: 5 });
    expect(await refusal(mqtts.publishAsync('bob/x', 'no', { qos: 1 }))).toBe(0x87);
    await endAll(sub, mqtts);
  });

  it('refuses clients without a certificate or with one the CA did not sign', async () => {
    const noCert = await mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(node.ports.mqttTls), '--cafile', pki.caCert, '-t', 'alice/x', '-m', 'x']);
    expect(noCert.code).not.toBe(0);
    const stranger = { ca, cert: readFileSync(pki.strangerCert), key: readFileSync(pki.strangerKey) };
    for (const port of [node.ports.mqttTls, node.ports.wss]) {
      for (const client of [stranger, { ca }]) {
        // TLS 1.3: the client finishes its side before the server checks its certificate, then gets an alert.
        const { read } = await refusedBeforeConnack(tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...client }));
        expect(read).toBe(0);
      }
    }
    expect(await refusal(connectClient(`wss://127.0.0.1:${node.ports.wss}/mqtt`, { ...stranger, connectTimeout: 3000 }))).toBeDefined();
  });
});
