/**
 * MQTT across brokers (cluster phase 2): dynalite + s3rver, one `robustmq meta` and three `robustmq broker` child
 * processes. A subscriber on one broker receives QoS 0/1/2 messages published on another, and members of one
 * shared subscription on two brokers each receive a share of the group's messages (each message once). A broker
 * stopped with SIGTERM tells its MQTT 5 clients DISCONNECT 0x8B (Server shutting down) and its persistent sessions
 * resume on another broker.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/cli.js';
import type { ClusterInfra } from '../helpers/cluster.js';
import { MqttCluster } from '../helpers/cluster-mqtt.js';
import { collect, sleep, waitFor } from '../helpers/mqtt.js';

const cluster = new MqttCluster();
const { brokers, clients } = cluster;
let infra: ClusterInfra;

beforeAll(async () => {
  assertBuilt();
  await cluster.start('cmqtt');
  infra = cluster.infra;
}, 90_000);

afterAll(() => cluster.close());

const url = (id: string): string => cluster.url(id);
const client = (id: string, options: Parameters<typeof cluster.client>[1] = {}): Promise<MqttClient> => cluster.client(id, options);
const routed = (brokerId: string, filter: string): Promise<void> => cluster.routed(brokerId, filter);

describe('MQTT across brokers', () => {
  it('delivers QoS 0, 1 and 2 from a publisher on one broker to a subscriber on another', async () => {
    const sub = await client('b1', { clientId: 'x-sub' });
    const got = collect(sub);
    await sub.subscribeAsync('cross/#', { qos: 2 });
    await routed('b1', 'cross/#');
    const pub = await client('b2', { clientId: 'x-pub' });
    for (const qos of [0, 1, 2] as const) await pub.publishAsync(`cross/q${qos}`, `m${qos}`, { qos });
    await waitFor(() => got.length >= 3, 5000, 'three cross-broker messages');
    await sleep(300);
    expect(got.map((m) => [m.topic, m.payload, m.packet.qos]).sort()).toEqual([
      ['cross/q0', 'm0', 0],
      ['cross/q1', 'm1', 1],
      ['cross/q2', 'm2', 2],
    ]);
    // A broker without matching subscribers delivers nothing of it; the publisher's broker neither.
    const other = await client('b3', { clientId: 'x-other' });
    const none = collect(other);
    await other.subscribeAsync('elsewhere/#', { qos: 1 });
    await pub.publishAsync('cross/again', 'again', { qos: 1 });
    await waitFor(() => got.length >= 4, 5000, 'the fourth message');
    await sleep(200);
    expect(none).toEqual([]);
    expect(got.filter((m) => m.topic === 'cross/again')).toHaveLength(1);
  }, 60_000);

  it('gives each member of a shared subscription on different brokers a share, each message once', async () => {
    const a = await client('b1', { clientId: 'share-a' });
    const c = await client('b3', { clientId: 'share-c' });
    const gotA = collect(a);
    const gotC = collect(c);
    await a.subscribeAsync('$share/grp/jobs/#', { qos: 1 });
    await c.subscribeAsync('$share/grp/jobs/#', { qos: 1 });
    await routed('b1', '$share/grp/jobs/#');
    await routed('b3', '$share/grp/jobs/#');
    const pub = await client('b2', { clientId: 'share-pub' });
    const N = 20;
    for (let i = 0; i < N; i++) await pub.publishAsync(`jobs/${i}`, `j${i}`, { qos: 1 });
    await waitFor(() => gotA.length + gotC.length >= N, 5000, 'every shared message');
    await sleep(300);
    expect(gotA.length).toBeGreaterThan(0);
    expect(gotC.length).toBeGreaterThan(0);
    const all = [...gotA, ...gotC].map((m) => m.payload).sort();
    expect(all).toEqual(Array.from({ length: N }, (_, i) => `j${i}`).sort());
  }, 60_000);

  it('drains on SIGTERM: MQTT 5 clients get DISCONNECT 0x8B and their persistent session resumes elsewhere', async () => {
    const v5 = { protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 300 } };
    const c = await client('b3', { clientId: 'drained', ...v5 });
    await c.subscribeAsync('drain/#', { qos: 1 });
    await routed('b3', 'drain/#');
    const disconnect = new Promise<mqtt.IDisconnectPacket>((resolve) => c.once('disconnect', resolve));
    const b3 = brokers.get('b3')!;
    b3.kill('SIGTERM');
    expect((await disconnect).reasonCode).toBe(0x8b);
    expect(await b3.exited).toBe(0);
    brokers.delete('b3');

    const back = await client('b1', { clientId: 'drained', ...v5 });
    const got = collect(back);
    await routed('b1', 'drain/#');
    const pub = await client('b2', { clientId: 'drain-pub' });
    await pub.publishAsync('drain/x', 'after-drain', { qos: 1 });
    await waitFor(() => got.length >= 1, 5000, 'a message to the resumed session');
    expect(got.map((m) => m.payload)).toEqual(['after-drain']);
  }, 60_000);
});
