/** Retained messages: set, replace, clear, delivery on subscribe, v5 Retain As Published, Retain Handling, expiry. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, connectClient, endAll, mosquitto, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode();
});
afterAll(async () => {
  await node?.destroy();
});

describe('MQTT retained messages', () => {
  it('sets, replaces and clears; new subscribers get the current one with RETAIN set [MQTT-3.3.1-9]', async () => {
    const pub = await connectClient(node.mqttUrl, { clientId: 'rpub' });
    await pub.publishAsync('ret/a', 'first', { qos: 1, retain: true });
    await pub.publishAsync('ret/a', 'second', { qos: 1, retain: true });
    await pub.publishAsync('ret/b', 'other', { qos: 0, retain: true });
    const s1 = await connectClient(node.mqttUrl, { clientId: 'rs1' });
    const got1 = collect(s1);
    await s1.subscribeAsync('ret/+', { qos: 1 });
    await waitFor(() => got1.length === 2);
    expect(got1.map((m) => [m.topic, m.payload, m.packet.retain]).sort()).toEqual([
      ['ret/a', 'second', true],
      ['ret/b', 'other', true],
    ]);
    // A live publish reaches existing subscribers without RETAIN [MQTT-3.3.1-9].
    await pub.publishAsync('ret/a', 'live', { qos: 1, retain: true });
    await waitFor(() => got1.length === 3);
    expect(got1[2].packet.retain).toBe(false);
    await pub.publishAsync('ret/a', '', { qos: 1, retain: true }); // clears [MQTT-3.3.1-10]
    await pub.publishAsync('ret/b', '', { qos: 1, retain: true });
    const s2 = await connectClient(node.mqttUrl, { clientId: 'rs2' });
    const got2 = collect(s2);
    await s2.subscribeAsync('ret/#');
    await sleep(150);
    expect(got2).toEqual([]);
    await endAll(pub, s1, s2);
  });

  it('mosquitto_sub receives a retained message set by mosquitto_pub -r', async () => {
    const port = String(node.ports.mqtt);
    const pub = await mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-t', 'ret/mosq', '-m', 'kept', '-r', '-q', '1']);
    expect(pub.code).toBe(0);
    const sub = await mosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-t', 'ret/mosq', '-C', '1', '-W', '5', '-v']);
    expect(sub.stdout.trim()).toBe('ret/mosq kept');
  });

  it('v5 Retain Handling 0/1/2 and Retain As Published', async () => {
    const pub = await connectClient(node.mqttUrl, { clientId: 'rhpub', protocolVersion: 5 });
    await pub.publishAsync('rh/x', 'kept', { qos: 1, retain: true });
    const s = await connectClient(node.mqttUrl, { clientId: 'rhsub', protocolVersion: 5 });
    const got = collect(s);
    await s.subscribeAsync('rh/+', { qos: 1, rh: 2 });
    await sleep(100);
    expect(got).toEqual([]); // 2: never
    await s.subscribeAsync('rh/+', { qos: 1, rh: 1 });
    await sleep(100);
    expect(got).toEqual([]); // 1: only for a new subscription, and this one existed
    await s.subscribeAsync('rh/#', { qos: 1, rh: 1 });
    await waitFor(() => got.length === 1); // new subscription
    await s.subscribeAsync('rh/#', { qos: 1, rh: 0 });
    await waitFor(() => got.length === 2); // 0: always
    await s.unsubscribeAsync(['rh/+', 'rh/#']);
    await s.subscribeAsync('rh/x', { qos: 1, rap: true, rh: 2 });
    await pub.publishAsync('rh/x', 'live retained', { qos: 1, retain: true });
    await waitFor(() => got.length === 3);
    expect(got[2].packet.retain).toBe(true); // Retain As Published [MQTT-3.3.1-12]
    await endAll(pub, s);
  });

  it('expires retained messages with their Message Expiry Interval', async () => {
    const pub = await connectClient(node.mqttUrl, { clientId: 'exppub', protocolVersion: 5 });
    await pub.publishAsync('ret/exp', 'short-lived', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    const s = await connectClient(node.mqttUrl, { clientId: 'expsub', protocolVersion: 5 });
    const got = collect(s);
    await s.subscribeAsync('ret/exp');
    await waitFor(() => got.length === 1);
    expect(got[0].packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(1);
    await sleep(1100);
    const late = await connectClient(node.mqttUrl, { clientId: 'expsub2', protocolVersion: 5 });
    const gotLate = collect(late);
    await late.subscribeAsync('ret/exp');
    await sleep(150);
    expect(gotLate).toEqual([]);
    await endAll(pub, s, late);
  });
});
