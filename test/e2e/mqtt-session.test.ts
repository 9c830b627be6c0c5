/** Sessions: clean session / Session Expiry, offline queues, take-over, redelivery, broker restart, queue limits. */
import { afterEach, describe, expect, it } from 'vitest';
import type mqttPacket from 'mqtt-packet';
import { RawClient, collect, connectClient, connectWithConnack, endAll, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode | undefined;
afterEach(async () => {
  await node?.destroy();
  node = undefined;
});

describe('MQTT sessions', () => {
  it('3.1.1 clean session 0 keeps subscriptions and QoS 1/2 messages while offline; session present', async () => {
    node = await startMqttNode();
    const first = await connectWithConnack(node.mqttUrl, { clientId: 'p1', clean: false });
    expect(first.connack.sessionPresent).toBe(false);
    await first.client.subscribeAsync('q/#', { qos: 2 });
    await endAll(first.client);
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub' });
    await pub.publishAsync('q/1', 'one', { qos: 1 });
    // Queued for an offline persistent session: in the store before the publisher got its PUBACK.
    expect((await node.context.meta.list('mqtt-queue', 'p1\u0000')).length).toBe(1);
    await pub.publishAsync('q/2', 'two', { qos: 2 });
    await pub.publishAsync('q/0', 'zero', { qos: 0 });
    const again = await connectWithConnack(node.mqttUrl, { clientId: 'p1', clean: false });
    const got = again.got;
    expect(again.connack.sessionPresent).toBe(true);
    await waitFor(() => got.length === 3, 3000, 'queued messages');
    // (mqtt.js hands a QoS 2 message over only after PUBREL, so arrival order differs from send order.)
    expect(got.map((m) => m.payload).sort()).toEqual(['one', 'two', 'zero']);
    // Clean session 1 discards it.
    await endAll(again.client);
    const clean = await connectWithConnack(node.mqttUrl, { clientId: 'p1', clean: true });
    expect(clean.connack.sessionPresent).toBe(false);
    expect(node.server.broker.router.trie.size).toBe(0);
    await endAll(clean.client, pub);
  });

  it('refuses an empty client id with clean session 0 in 3.1.1 and assigns one in v5', async () => {
    node = await startMqttNode();
    const raw = await RawClient.open(node.ports.mqtt, 4);
    // mqtt-packet will not encode this CONNECT (empty id, clean session 0), so it is written by hand.
    raw.sendBytes([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const refused = (await raw.next('connack')) as mqttPacket.IConnackPacket;
    expect(refused.returnCode).toBe(2); // identifier rejected [MQTT-3.1.3-8]
    await raw.waitClosed();
    const v5 = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: '' });
    expect(v5.connack.properties?.assignedClientIdentifier).toMatch(/^robustmq-/);
    const v4 = await RawClient.open(node.ports.mqtt, 4);
    expect((await v4.connect({ clientId: '', clean: true })).returnCode).toBe(0);
    v4.close();
    await endAll(v5.client);
  });

  it('v5 Session Expiry Interval: kept for its duration, then gone', async () => {
    node = await startMqttNode();
    const a = await connectClient(node.mqttUrl, { protocolVersion: 5, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 1 } });
    await a.subscribeAsync('e/#', { qos: 1 });
    await endAll(a);
    const b = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 1 } });
    expect(b.connack.sessionPresent).toBe(true);
    await endAll(b.client);
    await sleep(1300);
    expect(node.server.broker.sessions.has('exp')).toBe(false);
    const c = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'exp', clean: false });
    expect(c.connack.sessionPresent).toBe(false);
    await endAll(c.client);
  });

  it('takes over a session: the old connection gets DISCONNECT 0x8E (v5) and the session continues', async () => {
    node = await startMqttNode();
    const old = await connectClient(node.mqttUrl, { protocolVersion: 5, clientId: 'dup', clean: false, properties: { sessionExpiryInterval: 60 } });
    await old.subscribeAsync('take/over', { qos: 1 });
    const disconnects: number[] = [];
    old.on('disconnect', (p) => disconnects.push(p.reasonCode ?? -1));
    const fresh = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'dup', clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(fresh.connack.sessionPresent).toBe(true);
    await waitFor(() => disconnects.length === 1);
    expect(disconnects).toEqual([0x8e]);
    const got = collect(fresh.client);
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub2' });
    await pub.publishAsync('take/over', 'still subscribed', { qos: 1 });
    await waitFor(() => got.length === 1);
    await endAll(old, fresh.client, pub);
  });

  it('resends unacknowledged QoS 1 messages with DUP and their packet id on resume [MQTT-4.4.0-1]', async () => {
    node = await startMqttNode();
    const raw = await RawClient.open(node.ports.mqtt, 4);
    await raw.connect({ clientId: 'redeliver', clean: false });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r', qos: 1 }] });
    await raw.next('suback');
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub3' });
    await pub.publishAsync('r', 'unacked', { qos: 1 });
    const first = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    expect(first.dup).toBe(false);
    raw.close(); // no PUBACK
    await waitFor(() => !node!.server.broker.sessions.get('redeliver')?.online);
    const again = await RawClient.open(node.ports.mqtt, 4);
    const connack = await again.connect({ clientId: 'redeliver', clean: false });
    expect(connack.sessionPresent).toBe(true);
    const resent = (await again.next('publish')) as mqttPacket.IPublishPacket;
    expect(resent.dup).toBe(true);
    expect(resent.messageId).toBe(first.messageId);
    expect(resent.payload.toString()).toBe('unacked');
    again.send({ cmd: 'puback', messageId: resent.messageId! });
    await waitFor(() => node!.server.broker.sessions.get('redeliver')!.inflight.size === 0);
    again.close();
    await endAll(pub);
  });

  it('keeps subscriptions and queued messages of persistent sessions across a broker restart', async () => {
    node = await startMqttNode();
    const dataDir = node.dataDir;
    const s = await connectClient(node.mqttUrl, { clientId: 'durable', clean: false });
    await s.subscribeAsync('d/#', { qos: 1 });
    const v5 = await connectClient(node.mqttUrl, { protocolVersion: 5, clientId: 'durable5', clean: false, properties: { sessionExpiryInterval: 300 } });
    await v5.subscribeAsync('d/#', { qos: 2 });
    await endAll(s, v5);
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub4' });
    await pub.publishAsync('d/1', 'before restart 1', { qos: 1 });
    await pub.publishAsync('d/2', 'before restart 2', { qos: 2 });
    await pub.publishAsync('d/r', 'retained', { qos: 1, retain: true });
    await endAll(pub);
    await node.close();
    node = await startMqttNode({ dataDir });
    const back = await connectWithConnack(node.mqttUrl, { clientId: 'durable', clean: false });
    const back5 = await connectWithConnack(node.mqttUrl, { clientId: 'durable5', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } });
    for (const b of [back, back5]) {
      expect(b.connack.sessionPresent).toBe(true);
      await waitFor(() => b.got.length === 3, 3000, 'queued messages');
      expect(b.got.map((m) => m.payload).sort()).toEqual(['before restart 1', 'before restart 2', 'retained']);
    }
    // The subscriptions themselves survived too.
    const pub2 = await connectClient(node.mqttUrl, { clientId: 'pub5' });
    await pub2.publishAsync('d/after', 'after restart', { qos: 1 });
    await waitFor(() => back.got.length === 4 && back5.got.length === 4);
    await endAll(back.client, back5.client, pub2);
    // Acknowledged messages are gone from the store.
    await waitFor(() => node!.server.broker.sessions.get('durable')!.inflight.size === 0);
    const fresh = await connectWithConnack(node.mqttUrl, { clientId: 'durable', clean: false });
    const again = fresh.got;
    await sleep(200);
    expect(again).toEqual([]);
    await endAll(fresh.client);
  });

  it('limits the offline queue, dropping the oldest QoS 0 first, and counts drops', async () => {
    node = await startMqttNode({ mqttSessionQueueLimit: 3 });
    const s = await connectClient(node.mqttUrl, { clientId: 'small', clean: false });
    await s.subscribeAsync('lim', { qos: 1 });
    await endAll(s);
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub6' });
    await pub.publishAsync('lim', 'a0', { qos: 0 });
    await pub.publishAsync('lim', 'b1', { qos: 1 });
    await pub.publishAsync('lim', 'c0', { qos: 0 });
    await pub.publishAsync('lim', 'd1', { qos: 1 }); // evicts a0
    await pub.publishAsync('lim', 'e1', { qos: 1 }); // evicts c0
    await pub.publishAsync('lim', 'f1', { qos: 1 }); // no QoS 0 left: dropped
    await pub.publishAsync('lim', 'g0', { qos: 0 }); // dropped
    await endAll(pub);
    await waitFor(() => node!.server.broker.stats.droppedTotal === 4, 3000, 'four drops');
    node.server.broker.stats.flush();
    const metric = await node.context.metrics.registry.getSingleMetricAsString('robustmq_messages_dropped_total');
    expect(metric, metric).toContain('robustmq_messages_dropped_total{protocol="mqtt",reason="queue-full"} 4');
    const { client: back, got } = await connectWithConnack(node.mqttUrl, { clientId: 'small', clean: false });
    await waitFor(() => got.length === 3);
    await sleep(100);
    expect(got.map((m) => m.payload)).toEqual(['b1', 'd1', 'e1']);
    await endAll(back);
  });

  it('limits QoS 1 messages in flight to the client Receive Maximum', async () => {
    node = await startMqttNode();
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'window', properties: { receiveMaximum: 2 } });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 1, nl: false, rap: false, rh: 0 }] });
    await raw.next('suback');
    const pub = await connectClient(node.mqttUrl, { clientId: 'pub7' });
    for (let i = 0; i < 5; i++) await pub.publishAsync('w', `m${i}`, { qos: 1 });
    await sleep(150);
    const first = raw.packets.filter((p) => p.cmd === 'publish') as mqttPacket.IPublishPacket[];
    expect(first.map((p) => p.payload.toString())).toEqual(['m0', 'm1']);
    raw.packets.length = 0;
    raw.send({ cmd: 'puback', messageId: first[0].messageId! });
    const third = (await raw.next('publish')) as mqttPacket.IPublishPacket;
    expect(third.payload.toString()).toBe('m2');
    raw.close();
    await endAll(pub);
  });

  it('a subscriber that stops acknowledging does not stall its publishers: its queue limit applies', async () => {
    node = await startMqttNode({ mqttMaxInflight: 2, mqttSessionQueueLimit: 10 });
    const stuck = await RawClient.open(node.ports.mqtt, 4);
    await stuck.connect({ clientId: 'stuck' });
    stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'stall', qos: 1 }] });
    await stuck.next('suback');
    const pub = await connectClient(node.mqttUrl, { clientId: 'unstalled' });
    const started = Date.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => pub.publishAsync('stall', `m${i}`, { qos: 1 })));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(node.server.broker.sessions.get('stuck')!.inflight.size).toBe(2);
    expect(node.server.broker.sessions.get('stuck')!.queued).toBe(10);
    expect(node.server.broker.stats.droppedTotal).toBe(28);
    stuck.close();
    await endAll(pub);
  });
});
