/** MQTT 5 features: properties, topic aliases, subscription identifiers, No Local, packet sizes, reason codes. */
import type mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, collect, connectClient, connectWithConnack, endAll, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode({ mqttTopicAliasMaximum: 5 });
});
afterAll(async () => {
  await node?.destroy();
});

const v5 = (clientId: string, extra = {}) => connectClient(node.mqttUrl, { protocolVersion: 5, clientId, ...extra });

describe('MQTT 5', () => {
  it('forwards message properties unchanged', async () => {
    const s = await v5('props-sub');
    const got = collect(s);
    await s.subscribeAsync('p/1', { qos: 1 });
    const p = await v5('props-pub');
    await p.publishAsync('p/1', 'héllo', {
      qos: 1,
      properties: {
        payloadFormatIndicator: true,
        contentType: 'text/plain; charset=utf-8',
        responseTopic: 'p/reply',
        correlationData: Buffer.from('corr-1'),
        userProperties: { a: '1', b: ['x', 'y'] },
        messageExpiryInterval: 60,
      },
    });
    await waitFor(() => got.length === 1);
    const props = got[0].packet.properties!;
    expect(props.payloadFormatIndicator).toBe(true);
    expect(props.contentType).toBe('text/plain; charset=utf-8');
    expect(props.responseTopic).toBe('p/reply');
    expect(props.correlationData?.toString()).toBe('corr-1');
    expect(props.userProperties).toEqual({ a: '1', b: ['x', 'y'] });
    expect(props.messageExpiryInterval).toBeGreaterThan(55);
    await endAll(s, p);
  });

  it('refuses a payload that is not UTF-8 when Payload Format Indicator is 1 (PUBACK 0x99)', async () => {
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'pfi' });
    raw.send({ cmd: 'publish', topic: 'p/bad', payload: Buffer.from([0xff, 0xfe]), qos: 1, messageId: 3, retain: false, dup: false, properties: { payloadFormatIndicator: true } });
    const ack = (await raw.next('puback')) as mqttPacket.IPubackPacket;
    expect(ack.reasonCode).toBe(0x99);
    raw.close();
  });

  it('resolves client topic aliases and enforces Topic Alias Maximum (0x94)', async () => {
    const s = await v5('alias-sub');
    const got = collect(s);
    await s.subscribeAsync('alias/#');
    const { client: p, connack } = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'alias-pub' });
    expect(connack.properties?.topicAliasMaximum).toBe(5);
    await p.publishAsync('alias/long/topic/name', 'set', { properties: { topicAlias: 2 } });
    await p.publishAsync('', 'by alias', { properties: { topicAlias: 2 } });
    await waitFor(() => got.length === 2);
    expect(got.map((m) => [m.topic, m.payload])).toEqual([
      ['alias/long/topic/name', 'set'],
      ['alias/long/topic/name', 'by alias'],
    ]);
    await endAll(p, s);
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'alias-bad' });
    raw.send({ cmd: 'publish', topic: 'alias/x', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 6 } });
    expect(((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x94);
    await raw.waitClosed();
    const raw2 = await RawClient.open(node.ports.mqtt, 5);
    await raw2.connect({ clientId: 'alias-unknown' });
    raw2.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } });
    expect(((await raw2.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x82);
  });

  it('sends Subscription Identifiers and honours No Local', async () => {
    const c = await v5('subid');
    const got = collect(c);
    await c.subscribeAsync('sid/+', { qos: 1, properties: { subscriptionIdentifier: 11 } });
    await c.subscribeAsync('sid/#', { qos: 0, nl: true, properties: { subscriptionIdentifier: 22 } });
    const other = await v5('subid-other');
    await other.publishAsync('sid/a', 'from other', { qos: 1 });
    await waitFor(() => got.length === 1);
    expect([got[0].packet.properties?.subscriptionIdentifier].flat().sort()).toEqual([11, 22]);
    expect(got[0].packet.qos).toBe(1);
    await c.unsubscribeAsync('sid/+');
    await c.publishAsync('sid/a', 'own message', { qos: 1 }); // only the No Local subscription matches
    await other.publishAsync('sid/b', 'other again', { qos: 1 });
    await waitFor(() => got.length === 2);
    await sleep(100);
    expect(got.map((m) => m.payload)).toEqual(['from other', 'other again']);
    expect(got[1].packet.properties?.subscriptionIdentifier).toBe(22);
    await endAll(c, other);
  });

  it('reason codes: SUBACK 0x8F for a bad filter, UNSUBACK 0x11, PUBACK 0x87 when not allowed; the connection survives', async () => {
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'codes' });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 1, nl: false, rap: false, rh: 0 }, { topic: 'ok/+', qos: 2, nl: false, rap: false, rh: 0 }, { topic: '$share/g', qos: 0, nl: false, rap: false, rh: 0 }] });
    expect(((await raw.next('suback')) as mqttPacket.ISubackPacket).granted).toEqual([0x8f, 2, 0x8f]);
    raw.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['ok/+', 'never/subscribed'] });
    expect(((await raw.next('unsuback')) as mqttPacket.IUnsubackPacket).granted).toEqual([0, 0x11]);
    raw.send({ cmd: 'publish', topic: '$SYS/x', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false });
    expect(((await raw.next('puback')) as mqttPacket.IPubackPacket).reasonCode).toBe(0x87);
    raw.send({ cmd: 'pingreq' });
    await raw.next('pingresp');
    raw.close();
    // 3.1.1 gets 0x80 for the bad filter.
    const v4 = await RawClient.open(node.ports.mqtt, 4);
    await v4.connect({ clientId: 'codes4' });
    v4.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a+', qos: 1 }, { topic: 'fine', qos: 1 }] });
    expect(((await v4.next('suback')) as mqttPacket.ISubackPacket).granted).toEqual([0x80, 1]);
    v4.close();
  });

  it('Maximum Packet Size: oversize packets from a client get DISCONNECT 0x95; messages too large for a client are not sent', async () => {
    const { connack } = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'mps-check' }).then(async (r) => {
      await endAll(r.client);
      return r;
    });
    expect(connack.properties?.maximumPacketSize).toBe(1_048_576);
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'too-big' });
    raw.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(1_048_576), qos: 0, retain: false, dup: false });
    expect(((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x95);
    await raw.waitClosed();
    const small = await v5('small-max', { properties: { maximumPacketSize: 100 } });
    const got = collect(small);
    await small.subscribeAsync('size/#', { qos: 1 });
    const p = await v5('size-pub');
    await p.publishAsync('size/big', Buffer.alloc(200), { qos: 1 });
    await p.publishAsync('size/small', 'fits', { qos: 1 });
    await waitFor(() => got.length === 1);
    await sleep(100);
    expect(got.map((m) => m.topic)).toEqual(['size/small']);
    await endAll(small, p);
  });

  it('answers Request Response Information and uses Server Keep Alive when configured', async () => {
    const { client, connack } = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'rri', properties: { requestResponseInformation: true } });
    expect(connack.properties?.responseInformation).toBe('response/rri');
    await endAll(client);
    const other = await startMqttNode({ mqttServerKeepAlive: 7, mqttMaxQos: 1 });
    try {
      const r = await connectWithConnack(other.mqttUrl, { protocolVersion: 5, clientId: 'ska', keepalive: 60 });
      expect(r.connack.properties?.serverKeepAlive).toBe(7);
      expect(r.connack.properties?.maximumQoS).toBe(1);
      expect((await r.client.subscribeAsync('q', { qos: 2 }))[0].qos).toBe(1); // granted = min(requested, max)
      await endAll(r.client);
    } finally {
      await other.destroy();
    }
  });

  it('expires messages queued for an offline session', async () => {
    const s = await v5('queued-exp', { clean: false, properties: { sessionExpiryInterval: 60 } });
    await s.subscribeAsync('qexp/#', { qos: 1 });
    await endAll(s);
    const p = await v5('queued-exp-pub');
    await p.publishAsync('qexp/short', 'expires', { qos: 1, properties: { messageExpiryInterval: 1 } });
    await p.publishAsync('qexp/long', 'stays', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await sleep(1100);
    const back = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'queued-exp', clean: false, properties: { sessionExpiryInterval: 60 } });
    await waitFor(() => back.got.length === 1);
    await sleep(100);
    expect(back.got.map((m) => m.payload)).toEqual(['stays']);
    expect(back.got[0].packet.properties?.messageExpiryInterval).toBeLessThan(100);
    await endAll(back.client, p);
  });

  it('tells v5 clients DISCONNECT 0x8B when the server shuts down', async () => {
    const other = await startMqttNode();
    const raw = await RawClient.open(other.ports.mqtt, 5);
    await raw.connect({ clientId: 'bye' });
    const closing = other.destroy();
    expect(((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x8b);
    await closing;
  });

  it('refuses QoS above the configured maximum with DISCONNECT 0x9B', async () => {
    const other = await startMqttNode({ mqttMaxQos: 1 });
    try {
      const raw = await RawClient.open(other.ports.mqtt, 5);
      await raw.connect({ clientId: 'q2' });
      raw.send({ cmd: 'publish', topic: 'x', payload: Buffer.from('x'), qos: 2, messageId: 1, retain: false, dup: false });
      expect(((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x9b);
    } finally {
      await other.destroy();
    }
  });
});
