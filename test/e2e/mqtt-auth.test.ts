/** The authentication/authorization hook: refusals map to CONNACK, PUBACK and SUBACK codes. */
import type mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttAuthHooks } from '../../runtime/core/mqtt/auth.js';
import { RawClient, collect, connectClient, endAll, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

const calls: string[] = [];
const auth: MqttAuthHooks = {
  authenticate: (client, username, password) => {
    calls.push(`auth ${client.clientId} ${username ?? '-'}`);
    // Asynchronous on purpose: packets pipelined behind CONNECT must wait for it.
    return new Promise((resolve) => setTimeout(() => resolve(username !== 'mallory' && password?.toString() !== 'wrong'), 5));
  },
  authorizePublish: (_client, topic) => !topic.startsWith('secret/'),
  authorizeSubscribe: (_client, filter) => (filter.startsWith('async/') ? Promise.resolve(false) : !filter.startsWith('secret/')),
};

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode({}, auth);
});
afterAll(async () => {
  await node?.destroy();
});

describe('MQTT auth hooks', () => {
  it('refuses bad credentials with CONNACK 4 (3.1.1) and 0x86 (v5)', async () => {
    const v4 = await RawClient.open(node.ports.mqtt, 4);
    expect((await v4.connect({ clientId: 'm4', username: 'mallory', password: Buffer.from('x') })).returnCode).toBe(4);
    await v4.waitClosed();
    const v5 = await RawClient.open(node.ports.mqtt, 5);
    expect((await v5.connect({ clientId: 'm5', username: 'alice', password: Buffer.from('wrong') })).reasonCode).toBe(0x86);
    expect(calls).toContain('auth m4 mallory');
  });

  it('applies publish and subscribe authorization', async () => {
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'alice', username: 'alice' });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'secret/#', qos: 1, nl: false, rap: false, rh: 0 }, { topic: 'open/#', qos: 1, nl: false, rap: false, rh: 0 }, { topic: 'async/x', qos: 0, nl: false, rap: false, rh: 0 }] });
    expect(((await raw.next('suback')) as mqttPacket.ISubackPacket).granted).toEqual([0x87, 1, 0x87]);
    raw.send({ cmd: 'publish', topic: 'secret/a', payload: Buffer.from('x'), qos: 1, messageId: 2, retain: false, dup: false });
    expect(((await raw.next('puback')) as mqttPacket.IPubackPacket).reasonCode).toBe(0x87);
    raw.close();
    const sub = await connectClient(node.mqttUrl, { clientId: 'bob', username: 'bob' });
    const got = collect(sub);
    await sub.subscribeAsync('#');
    const pub = await connectClient(node.mqttUrl, { clientId: 'carol', username: 'carol' });
    await pub.publishAsync('secret/b', 'hidden', { qos: 1 }); // 3.1.1: acknowledged, not delivered
    await pub.publishAsync('open/b', 'visible', { qos: 1 });
    await waitFor(() => got.length === 1);
    await sleep(100);
    expect(got.map((m) => m.payload)).toEqual(['visible']);
    await endAll(sub, pub);
  });
});
