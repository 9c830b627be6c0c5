/** Will messages: abnormal disconnect, keep-alive timeout, normal DISCONNECT, v5 Will Delay Interval and properties. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, collect, connectClient, endAll, mosquitto, sleep, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode();
});
afterAll(async () => {
  await node?.destroy();
});

async function watcher(topic: string) {
  const c = await connectClient(node.mqttUrl, { clientId: `watch-${topic}`, protocolVersion: 5 });
  const got = collect(c);
  await c.subscribeAsync(topic, { qos: 1 });
  return { c, got };
}

describe('MQTT will messages', () => {
  it('publishes the will when the network connection drops without DISCONNECT [MQTT-3.1.2-8]', async () => {
    const w = await watcher('will/drop');
    const raw = await RawClient.open(node.ports.mqtt, 4);
    await raw.connect({ clientId: 'dropper', will: { topic: 'will/drop', payload: Buffer.from('gone'), qos: 1, retain: false } });
    raw.close();
    await waitFor(() => w.got.length === 1);
    expect(w.got[0].payload).toBe('gone');
    await endAll(w.c);
  });

  it('publishes the will on keep-alive timeout (1.5 x keep alive) [MQTT-3.1.2-24]', async () => {
    const w = await watcher('will/keepalive');
    const raw = await RawClient.open(node.ports.mqtt, 4);
    const started = Date.now();
    await raw.connect({ clientId: 'silent', keepalive: 1, will: { topic: 'will/keepalive', payload: Buffer.from('timed out'), qos: 0, retain: false } });
    await raw.waitClosed(4000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(3500); // the sweep runs every 250 ms; generous for a busy machine
    await waitFor(() => w.got.length === 1);
    expect(w.got[0].payload).toBe('timed out');
    await endAll(w.c);
  });

  it('v5: keep-alive timeout is reported with DISCONNECT 0x8D', async () => {
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'silent5', keepalive: 1 });
    const d = await raw.next('disconnect', 4000);
    expect((d as { reasonCode?: number }).reasonCode).toBe(0x8d);
    await raw.waitClosed();
  });

  it('does not publish the will after a normal DISCONNECT [MQTT-3.14.4-3], but does for v5 reason 0x04', async () => {
    const w = await watcher('will/normal');
    const c = await connectClient(node.mqttUrl, { clientId: 'polite', will: { topic: 'will/normal', payload: Buffer.from('nope'), qos: 1, retain: false } });
    await endAll(c);
    const raw = await RawClient.open(node.ports.mqtt, 5);
    await raw.connect({ clientId: 'asks', will: { topic: 'will/normal', payload: Buffer.from('asked for'), qos: 1, retain: false } });
    raw.send({ cmd: 'disconnect', reasonCode: 0x04 });
    await waitFor(() => w.got.length === 1);
    await sleep(100);
    expect(w.got.map((m) => m.payload)).toEqual(['asked for']);
    await endAll(w.c);
  });

  it('3.1 client reset: will sent; mosquitto_pub ending normally: its will is not sent', async () => {
    const w = await watcher('will/mosq');
    const raw = await RawClient.open(node.ports.mqtt, 3);
    await raw.connect({ clientId: 'mosq-like-31', will: { topic: 'will/mosq', payload: Buffer.from('v3.1 will'), qos: 0, retain: false } });
    raw.socket.resetAndDestroy();
    await waitFor(() => w.got.length === 1);
    expect(w.got[0].payload).toBe('v3.1 will');
    const ok = await mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(node.ports.mqtt), '-t', 'will/mosq', '-m', 'normal', '--will-topic', 'will/mosq', '--will-payload', 'should not appear']);
    expect(ok.code).toBe(0);
    await waitFor(() => w.got.length === 2);
    await sleep(100);
    expect(w.got.map((m) => m.payload)).toEqual(['v3.1 will', 'normal']);
    await endAll(w.c);
  });

  it('v5 Will Delay Interval: not sent when the client returns in time, sent after the delay otherwise, with its properties', async () => {
    const w = await watcher('will/delay');
    const will = {
      topic: 'will/delay',
      payload: Buffer.from('delayed'),
      qos: 1 as const,
      retain: false,
      properties: { willDelayInterval: 1, contentType: 'text/plain', userProperties: { why: 'test' } },
    };
    const session = { clientId: 'delayer', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 30 } };
    const delayer = () => node.server.broker.sessions.get('delayer');
    // Returning in time: a 3 s delay leaves the reconnect seconds of slack on a busy machine.
    const a = await RawClient.open(node.ports.mqtt, 5);
    await a.connect({ ...session, will: { ...will, properties: { ...will.properties, willDelayInterval: 3 } } });
    const closedAt = Date.now();
    a.close();
    await waitFor(() => delayer()?.pendingWill !== undefined, 3000, 'the broker to hold the will');
    const back = await connectClient(node.mqttUrl, session); // back within the delay: no will
    await sleep(closedAt + 3000 + 500 - Date.now()); // past the moment the will was due
    expect(w.got).toEqual([]);
    back.stream.destroy();
    await waitFor(() => w.got.length === 0 && !delayer()?.online);
    expect(delayer()?.pendingWill).toBeUndefined(); // no will waits, whatever its delay
    await sleep(1200);
    expect(w.got).toEqual([]); // reconnected without a will this time
    const b = await RawClient.open(node.ports.mqtt, 5);
    await b.connect({ ...session, will });
    const t0 = Date.now();
    b.close();
    await waitFor(() => w.got.length === 1, 10_000, 'the delayed will');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(w.got[0].packet.properties?.contentType).toBe('text/plain');
    expect(w.got[0].packet.properties?.userProperties).toEqual({ why: 'test' });
    await endAll(w.c);
  });
});
