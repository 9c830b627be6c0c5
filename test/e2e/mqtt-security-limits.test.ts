/**
 * The MQTT front-end's limits through real sockets: subscriptions per client (SUBACK 0x97 in v5, 0x80 in 3.1.1),
 * the per-connection publish rate (reading pauses, nothing is lost), the CONNECT timeout for silent and slow
 * clients over TCP and WebSocket, and the node's connection limit per client address on every listener.
 */
import net from 'node:net';
import type mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectionLimiterOf } from '../../runtime/core/limits.js';
import { collect, connectClient, endAll, RawClient, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

const CONNECT_TIMEOUT_MS = 700;
const RATE = 50;
let node: MqttTestNode;

beforeAll(async () => {
  node = await startMqttNode({
    mqttMaxSubscriptions: 2,
    mqttMaxPublishRate: RATE,
    mqttConnectTimeoutMs: CONNECT_TIMEOUT_MS,
    maxConnectionsPerIp: 6,
  });
});
afterAll(() => node?.destroy());

const subscribe = async (raw: RawClient, messageId: number, filters: string[]): Promise<number[]> => {
  raw.send({ cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos: 1, nl: false, rap: false, rh: 0 })) });
  return ((await raw.next('suback')) as mqttPacket.ISubackPacket).granted as number[];
};

const closedWithin = (socket: net.Socket): Promise<number> => {
  const started = Date.now();
  return new Promise((resolve) => (socket.destroyed ? resolve(0) : socket.once('close', () => resolve(Date.now() - started))));
};

describe('subscriptions per client (--mqtt-max-subscriptions 2)', () => {
  it('refuses a third filter with 0x97 (v5) or 0x80 (3.1.1), still allows replacing one, and frees room on unsubscribe', async () => {
    const v5 = await RawClient.open(node.ports.mqtt, 5);
    await v5.connect({ clientId: 'subs5' });
    expect(await subscribe(v5, 1, ['a/#', 'b/#', 'c/#'])).toEqual([1, 1, 0x97]);
    expect(await subscribe(v5, 2, ['a/#'])).toEqual([1]);
    v5.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['b/#'] });
    await v5.next('unsuback');
    expect(await subscribe(v5, 4, ['c/#', 'd/#'])).toEqual([1, 0x97]);
    v5.close();
    const v4 = await RawClient.open(node.ports.mqtt, 4);
    await v4.connect({ clientId: 'subs4' });
    expect(await subscribe(v4, 1, ['a/#', 'b/#', 'c/#'])).toEqual([1, 1, 0x80]);
    v4.close();
  });
});

describe('publish rate (--mqtt-max-publish-rate 50)', () => {
  it('slows a flooding publisher down to the rate without dropping or disconnecting it', async () => {
    const sub = await connectClient(node.mqttUrl, { clientId: 'rate-sub' });
    const got = collect(sub);
    await sub.subscribeAsync('rate/#', { qos: 1 });
    const pub = await connectClient(node.mqttUrl, { clientId: 'rate-pub' });
    const total = 3 * RATE;
    const started = Date.now();
    for (let i = 0; i < total; i++) pub.publish('rate/x', String(i), { qos: 0 });
    await waitFor(() => got.length === total, 10_000, 'every message');
    const elapsed = Date.now() - started;
    // One second's burst passes at once, the rest at 50/s: at least (150 - 50) / 50 = 2 s.
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    expect(elapsed).toBeLessThan(6000);
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    expect(pub.connected).toBe(true);
    await endAll(sub, pub);
  }, 20_000);
});

describe('CONNECT timeout (--mqtt-connect-timeout-ms 700)', () => {
  it('closes a silent TCP connection, a slow-loris CONNECT and a silent WebSocket', async () => {
    // The clock starts before the connections do, so the server's (from accept) cannot start earlier: nothing may
    // close before the timeout. The broker checks every 250 ms; the upper bound leaves room for a busy machine.
    const started = Date.now();
    const closed = (emitter: { once(event: 'close', listener: () => void): unknown }): Promise<number> =>
      new Promise((resolve) => emitter.once('close', () => resolve(Date.now() - started)));
    const silent = net.connect(node.ports.mqtt, '127.0.0.1');
    const slow = net.connect(node.ports.mqtt, '127.0.0.1');
    const ws = new WebSocket(`${node.wsUrl}`, 'mqtt');
    for (const s of [silent, slow, ws]) s.on('error', () => undefined);
    const closes = [closed(silent), closed(slow), closed(ws)];
    let opened = false;
    ws.once('open', () => (opened = true));
    const connect = Buffer.from('101000044d5154540402003c0004736c6f77', 'hex');
    let i = 0;
    const drip = setInterval(() => i < connect.length - 1 && slow.write(connect.subarray(i, ++i)), 100);
    const times = await Promise.all(closes);
    clearInterval(drip);
    expect(opened).toBe(true); // closed by the MQTT CONNECT timeout, not refused as HTTP
    for (const ms of times) {
      expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 10); // clock granularity only
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 3000);
    }
  });
});

describe('connections per client address (--max-connections-per-ip 6)', () => {
  it('closes the seventh socket at once on the TCP and WebSocket listeners, and admits again after one leaves', async () => {
    const limiter = connectionLimiterOf(node.context);
    await waitFor(() => limiter.connections === 0, 3000, 'earlier connections to be released');
    const clients = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => connectClient(node.mqttUrl, { clientId: `lim-${i}` })),
      ...Array.from({ length: 2 }, (_, i) => connectClient(node.wsUrl, { clientId: `lim-ws-${i}` })),
    ]);
    expect(limiter.connections).toBe(6);
    const refusedBefore = limiter.refused['per-ip'];
    const extra = net.connect(node.ports.mqtt, '127.0.0.1');
    extra.on('error', () => undefined);
    expect(await closedWithin(extra)).toBeLessThan(500);
    await expect(connectClient(node.wsUrl, { clientId: 'lim-ws-extra', connectTimeout: 2000 })).rejects.toThrow();
    expect(limiter.refused['per-ip'] - refusedBefore).toBeGreaterThanOrEqual(2);
    await endAll(clients[0]);
    await waitFor(() => limiter.connections === 5, 2000, 'the lease to be released');
    const again = await connectClient(node.mqttUrl, { clientId: 'lim-again' });
    await endAll(again, ...clients.slice(1));
  });
});
