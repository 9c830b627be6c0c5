/** Malformed and out-of-order packets close that one connection, with a reason code where possible; others go on. */
import type mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, collect, connectClient, endAll, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode({ mqttMaxConnections: 40 });
});
afterAll(async () => {
  await node?.destroy();
});

async function connected(version: 4 | 5, clientId: string): Promise<RawClient> {
  const raw = await RawClient.open(node.ports.mqtt, version);
  await raw.connect({ clientId });
  return raw;
}

const disconnectCode = async (raw: RawClient): Promise<number | undefined> =>
  ((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode;

describe('MQTT malformed packets', () => {
  it('keeps serving other clients while bad ones are closed', async () => {
    const bystander = await connectClient(node.mqttUrl, { clientId: 'bystander' });
    const got = collect(bystander);
    await bystander.subscribeAsync('still/alive');

    // PUBLISH before CONNECT: closed without a reply [MQTT-3.1.0-1].
    const early = await RawClient.open(node.ports.mqtt, 4);
    early.send({ cmd: 'publish', topic: 'x', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await early.waitClosed();
    expect(early.packets).toEqual([]);

    // Remaining Length with a fifth byte (v5: DISCONNECT 0x81).
    const badLen = await connected(5, 'bad-length');
    badLen.sendBytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(await disconnectCode(badLen)).toBe(0x81);
    await badLen.waitClosed();

    // Reserved flag bits set on SUBSCRIBE [MQTT-3.8.1-1].
    const flags = await connected(5, 'bad-flags');
    flags.sendBytes([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]);
    expect(await disconnectCode(flags)).toBe(0x81);

    // A topic name that is not UTF-8.
    const utf = await connected(5, 'bad-utf8');
    utf.sendBytes([0x30, 0x06, 0x00, 0x02, 0xc0, 0xaf, 0x00, 0x78]);
    expect(await disconnectCode(utf)).toBe(0x81);

    // A wildcard in a PUBLISH topic (v5: 0x90); 3.1.1 is just closed.
    const wild = await connected(5, 'bad-topic');
    wild.send({ cmd: 'publish', topic: 'a/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    expect(await disconnectCode(wild)).toBe(0x90);
    const wild4 = await connected(4, 'bad-topic-4');
    wild4.send({ cmd: 'publish', topic: 'a/#', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false });
    await wild4.waitClosed();

    // A second CONNECT is a protocol error [MQTT-3.1.0-2].
    const twice = await connected(5, 'twice');
    twice.send({ cmd: 'connect', clientId: 'twice', protocolVersion: 5, protocolId: 'MQTT', clean: true, keepalive: 0 });
    expect(await disconnectCode(twice)).toBe(0x82);

    // An unsupported protocol level gets CONNACK 1 [MQTT-3.1.2-2].
    const level = await RawClient.open(node.ports.mqtt, 4);
    level.sendBytes([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x00, 0x00, 0x01, 0x61]);
    expect(((await level.next('connack')) as mqttPacket.IConnackPacket).returnCode).toBe(1);
    await level.waitClosed();

    // A protocol name that does not match the level.
    const name = await RawClient.open(node.ports.mqtt, 4);
    name.sendBytes([0x10, 0x0f, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 0x61]);
    expect(((await name.next('connack')) as mqttPacket.IConnackPacket).returnCode).toBe(1);

    const pub = await connectClient(node.mqttUrl, { clientId: 'after' });
    await pub.publishAsync('still/alive', 'yes');
    await waitFor(() => got.length === 1);
    await endAll(bystander, pub);
  });

  it('refuses connections beyond mqttMaxConnections with CONNACK 3 / 0x97', async () => {
    const open: RawClient[] = [];
    for (let i = 0; i < 40; i++) open.push(await connected(4, `fill-${i}`));
    const over = await RawClient.open(node.ports.mqtt, 4);
    expect((await over.connect({ clientId: 'one-too-many' })).returnCode).toBe(3);
    const over5 = await RawClient.open(node.ports.mqtt, 5);
    expect((await over5.connect({ clientId: 'one-too-many-5' })).reasonCode).toBe(0x97);
    for (const c of open) c.close();
    await waitFor(() => node.server.broker.connections.size <= 1);
  });

  it('delivers a QoS 2 message once even when the publisher resends it before PUBREL', async () => {
    const sub = await connectClient(node.mqttUrl, { clientId: 'q2sub' });
    const got = collect(sub);
    await sub.subscribeAsync('q2', { qos: 2 });
    const raw = await connected(4, 'q2pub');
    const publish = { cmd: 'publish', topic: 'q2', payload: Buffer.from('once'), qos: 2, messageId: 42, retain: false, dup: false } as const;
    raw.send(publish);
    expect((await raw.next('pubrec')).messageId).toBe(42);
    raw.send({ ...publish, dup: true });
    expect((await raw.next('pubrec')).messageId).toBe(42);
    raw.send({ cmd: 'pubrel', messageId: 42 });
    expect((await raw.next('pubcomp')).messageId).toBe(42);
    await waitFor(() => got.length === 1);
    await sleep(150);
    expect(got.length).toBe(1);
    // The id is free again after PUBCOMP: the same id carries a new message.
    raw.send({ ...publish, payload: Buffer.from('second') });
    await raw.next('pubrec');
    await waitFor(() => got.length === 2);
    raw.close();
    await endAll(sub);
  });

  it('v5 protocol errors: Session Expiry set on DISCONNECT after 0 on CONNECT; PUBREL for an unknown id gets 0x92', async () => {
    const raw = await connected(5, 'exp-change');
    raw.send({ cmd: 'pubrel', messageId: 77 });
    expect(((await raw.next('pubcomp')) as mqttPacket.IPubcompPacket).reasonCode).toBe(0x92);
    raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 30 } });
    expect(await disconnectCode(raw)).toBe(0x82); // [MQTT-3.14.2-2]
    await raw.waitClosed();
    const q = await connected(5, 'qos-too-high');
    q.send({ cmd: 'publish', topic: 'x', payload: Buffer.from('x'), qos: 2, messageId: 1, retain: false, dup: false });
    await q.next('pubrec'); // QoS 2 is within the default maximum
    q.close();
  });
});
