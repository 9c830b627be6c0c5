/**
 * MQTT when a broker dies (cluster phase 2): dynalite + s3rver, one `robustmq meta` and three `robustmq broker`
 * child processes. b1 holds a persistent session (subscribed at QoS 1) and a client with a will; b1 is killed with
 * SIGKILL. Then:
 *  - the will is delivered to a subscriber on another broker;
 *  - QoS 1 messages published on b3 after the kill (some at once, some after b1's lease expired) reach the
 *    persistent session when its client reconnects to b2, none lost;
 *  - reconnecting to b3 afterwards takes the session over from b2 (the old connection is closed).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/cli.js';
import { SHORT_LEASE_TTL_MS, until, type ClusterInfra } from '../helpers/cluster.js';
import { MqttCluster } from '../helpers/cluster-mqtt.js';
import { collect, sleep, waitFor, type Received } from '../helpers/mqtt.js';

const LEASE_TTL_MS = SHORT_LEASE_TTL_MS;
const cluster = new MqttCluster();
const { brokers, clients } = cluster;
let infra: ClusterInfra;

beforeAll(async () => {
  assertBuilt();
  // Short leases where the test waits on them: b1's (killed) and b2's (the lowest live id after the kill: it takes
  // over what a dead broker left once the entry is a lease TTL old, by its own TTL). b3 keeps the long default.
  const short = { 'cluster-lease-ttl-ms': LEASE_TTL_MS };
  await cluster.start('cmqttfo', {}, { b1: short, b2: short });
  infra = cluster.infra;
}, 90_000);

afterAll(() => cluster.close());

const url = (id: string): string => cluster.url(id);
const client = (id: string, options: Parameters<typeof cluster.client>[1] = {}): Promise<MqttClient> => cluster.client(id, options);
const routed = (brokerId: string, filter: string): Promise<void> => cluster.routed(brokerId, filter);
const payloads = (got: Received[], prefix: string): string[] => got.map((m) => m.payload).filter((p) => p.startsWith(prefix));

describe('MQTT when a broker dies', () => {
  it('sends the will of its clients and resumes its persistent sessions on another broker without QoS 1 loss', async () => {
    const watcher = await client('b2', { clientId: 'will-watcher' });
    const wills = collect(watcher);
    await watcher.subscribeAsync('wills/#', { qos: 1 });
    await routed('b2', 'wills/#');

    const durable = await client('b1', { clientId: 'durable', clean: false });
    const before = collect(durable);
    await durable.subscribeAsync('fo/#', { qos: 1 });
    await client('b1', { clientId: 'mortal', will: { topic: 'wills/mortal', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await routed('b1', 'fo/#');
    const store = await infra.meta();
    await until(async () => ((await store.list('mqtt-wills', 'b1\u0000')).length === 1 ? true : undefined), 5000);

    const pub = await client('b3', { clientId: 'fo-pub' });
    await pub.publishAsync('fo/live', 'live-1', { qos: 1 });
    await waitFor(() => before.length === 1, 5000, 'the message before the kill');

    brokers.get('b1')!.kill('SIGKILL');
    await brokers.get('b1')!.exited;
    // At once (b1's lease still looks live), then after it expired and the sessions were taken over.
    for (let i = 0; i < 5; i++) await pub.publishAsync(`fo/after`, `early-${i}`, { qos: 1 });
    await sleep(LEASE_TTL_MS + 3000);
    for (let i = 0; i < 5; i++) await pub.publishAsync(`fo/after`, `late-${i}`, { qos: 1 });

    await waitFor(() => wills.length >= 1, 10_000, "the dead broker's client's will");
    expect(wills.map((m) => [m.topic, m.payload])).toEqual([['wills/mortal', 'gone']]);

    const resumed = mqtt.connect(url('b2'), { clientId: 'durable', clean: false, reconnectPeriod: 0 });
    clients.push(resumed);
    const after = collect(resumed);
    const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
      resumed.once('connect', resolve);
      resumed.once('error', reject);
    });
    expect(connack.sessionPresent).toBe(true);
    await waitFor(() => after.length >= 10, 10_000, 'every message published after the kill');
    await sleep(300);
    expect(new Set(payloads(after, 'early-'))).toEqual(new Set(Array.from({ length: 5 }, (_, i) => `early-${i}`)));
    expect(new Set(payloads(after, 'late-'))).toEqual(new Set(Array.from({ length: 5 }, (_, i) => `late-${i}`)));

    // Taking the session over from b2 on b3: the connection on b2 is closed, the session moves with its subscription.
    const closed = new Promise<void>((resolve) => resumed.once('close', () => resolve()));
    const moved = await client('b3', { clientId: 'durable', clean: false });
    const movedGot = collect(moved);
    await closed;
    await routed('b3', 'fo/#');
    await pub.publishAsync('fo/moved', 'moved-1', { qos: 1 });
    await waitFor(() => movedGot.length >= 1, 5000, 'a message after the take-over');
    expect(payloads(movedGot, 'moved-')).toEqual(['moved-1']);
  }, 90_000);
});
