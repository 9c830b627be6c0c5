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
import type { RouteEntry } from '../../runtime/cluster/mqtt-routes.js';
import { assertBuilt } from '../helpers/cli.js';
import { startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from '../helpers/cluster.js';
import { collect, connectClient, endAll, sleep, waitFor, type Received } from '../helpers/mqtt.js';

const LEASE_TTL_MS = 3000;
let infra: ClusterInfra;
let meta: Child;
const brokers = new Map<string, Child>();
const clients: MqttClient[] = [];

beforeAll(async () => {
  assertBuilt();
  infra = await startInfra('cmqttfo');
  meta = await startMeta(infra);
  for (const id of ['b1', 'b2', 'b3']) brokers.set(id, await startBrokerProcess(infra, id, { 'cluster-lease-ttl-ms': LEASE_TTL_MS }));
}, 90_000);

afterAll(async () => {
  await endAll(...clients);
  for (const b of brokers.values()) b.kill('SIGKILL');
  meta?.kill('SIGKILL');
  await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
  await infra?.close();
});

function url(id: string): string {
  return `mqtt://127.0.0.1:${brokers.get(id)!.ports.mqtt}`;
}

async function client(id: string, options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> {
  const c = await connectClient(url(id), options);
  clients.push(c);
  return c;
}

async function routed(brokerId: string, filter: string): Promise<void> {
  const store = await infra.meta();
  await until(async () => ((await store.get<RouteEntry>('mqtt-routes', brokerId))?.value.filters.includes(filter) ? true : undefined), 10_000);
  await sleep(700);
}

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
