/** Shared subscriptions: one member per message, round robin, and in-flight messages of a leaving member redistributed. */
import type mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, collect, connectClient, endAll, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode();
});
afterAll(async () => {
  await node?.destroy();
});

describe('MQTT shared subscriptions', () => {
  it('gives each message to exactly one member, round robin, alongside normal subscribers', async () => {
    const members = await Promise.all([1, 2, 3].map((i) => connectClient(node.mqttUrl, { protocolVersion: 5, clientId: `m${i}` })));
    const got = members.map(collect);
    for (const m of members) await m.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    const plain = await connectClient(node.mqttUrl, { clientId: 'plain' });
    const gotPlain = collect(plain);
    await plain.subscribeAsync('jobs/#', { qos: 1 });
    const pub = await connectClient(node.mqttUrl, { clientId: 'jobpub' });
    for (let i = 0; i < 9; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await waitFor(() => got.flat().length === 9 && gotPlain.length === 9);
    await sleep(100);
    expect(got.map((g) => g.length)).toEqual([3, 3, 3]);
    expect(new Set(got.flat().map((m) => m.payload)).size).toBe(9);
    // A second group gets its own copy.
    const other = await connectClient(node.mqttUrl, { clientId: 'other-group' });
    const gotOther = collect(other);
    await other.subscribeAsync('$share/audit/jobs/#', { qos: 0 });
    await pub.publishAsync('jobs/x', 'both groups', { qos: 1 });
    await waitFor(() => gotOther.length === 1 && got.flat().length === 10);
    await endAll(...members, plain, pub, other);
  });

  it('redelivers the in-flight QoS 1 messages of a member that leaves to another member', async () => {
    const slow = await RawClient.open(node.ports.mqtt, 4);
    await slow.connect({ clientId: 'slow-member' });
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g2/work', qos: 1 }] });
    await slow.next('suback');
    const pub = await connectClient(node.mqttUrl, { clientId: 'workpub' });
    await pub.publishAsync('work', 'task A', { qos: 1 });
    const taken = (await slow.next('publish')) as mqttPacket.IPublishPacket;
    expect(taken.payload.toString()).toBe('task A'); // never acknowledged
    const steady = await connectClient(node.mqttUrl, { clientId: 'steady-member' });
    const got = collect(steady);
    await steady.subscribeAsync('$share/g2/work', { qos: 1 });
    slow.close();
    await waitFor(() => got.length === 1, 3000, 'redistributed message');
    expect(got[0].payload).toBe('task A');
    await endAll(pub, steady);
  });

  it('refuses No Local on a shared subscription with a protocol error [MQTT-3.8.3-4]', async () => {
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'nl-shared' });
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/t', qos: 0, nl: true, rap: false, rh: 0 }] });
    expect(((await raw.next('disconnect')) as mqttPacket.IDisconnectPacket).reasonCode).toBe(0x82);
  });
});
