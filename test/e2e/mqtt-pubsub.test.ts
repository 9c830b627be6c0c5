/** Connect and publish/subscribe over TCP and WebSocket with mqtt.js (3.1.1, 5) and the Mosquitto clients (3.1, 3.1.1, 5). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestNode } from '../helpers/node.js';
import { collect, connectClient, connectWithConnack, endAll, mosquitto, startMqttNode, waitFor, type MqttTestNode } from '../helpers/mqtt.js';

let node: MqttTestNode;
beforeAll(async () => {
  node = await startMqttNode({ mqttSysIntervalMs: 200 });
});
afterAll(async () => {
  await node?.destroy();
});

describe('MQTT publish/subscribe', () => {
  for (const protocolVersion of [4, 5] as const) {
    for (const transport of ['tcp', 'ws'] as const) {
      it(`delivers QoS 0, 1 and 2 both ways (v${protocolVersion} over ${transport})`, async () => {
        const url = transport === 'tcp' ? node.mqttUrl : node.wsUrl;
        const sub = await connectClient(url, { protocolVersion, clientId: `sub-${protocolVersion}-${transport}` });
        const pub = await connectClient(url, { protocolVersion, clientId: `pub-${protocolVersion}-${transport}` });
        const got = collect(sub);
        const topic = `t/${protocolVersion}/${transport}`;
        const granted = await sub.subscribeAsync(`t/${protocolVersion}/+`, { qos: 2 });
        expect(granted.map((g) => g.qos)).toEqual([2]);
        for (const qos of [0, 1, 2] as const) await pub.publishAsync(topic, `q${qos}`, { qos });
        await waitFor(() => got.length === 3, 3000, 'three messages');
        expect(got.map((m) => [m.topic, m.payload, m.packet.qos])).toEqual([
          [topic, 'q0', 0],
          [topic, 'q1', 1],
          [topic, 'q2', 2],
        ]);
        // Granted QoS caps delivery: a QoS 2 publish to a QoS 1 subscription arrives as QoS 1.
        await sub.subscribeAsync(`cap/${protocolVersion}/${transport}`, { qos: 1 });
        await pub.publishAsync(`cap/${protocolVersion}/${transport}`, 'capped', { qos: 2 });
        await waitFor(() => got.length === 4);
        expect(got[3].packet.qos).toBe(1);
        await endAll(sub, pub);
      });
    }
  }

  it('interoperates with mosquitto_pub and mosquitto_sub for 3.1, 3.1.1 and 5', async () => {
    const port = String(node.ports.mqtt);
    for (const [v, qos] of [['mqttv31', '1'], ['mqttv311', '2'], ['mqttv5', '1']] as const) {
      const topic = `mosq/${v}`;
      const sub = mosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-V', v, '-t', topic, '-q', qos, '-C', '1', '-W', '8', '-i', `msub-${v}`]);
      const watcher = await connectClient(node.mqttUrl, { clientId: `watch-${v}` });
      await waitFor(() => node.server.broker.sessions.get(`msub-${v}`)?.subscriptions.has(topic) === true, 5000, 'mosquitto_sub to subscribe');
      const got = collect(watcher);
      await watcher.subscribeAsync(topic, { qos: 1 });
      const pub = await mosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-V', v, '-t', topic, '-q', qos, '-m', `hello ${v}`, '-i', `mpub-${v}`]);
      expect(pub.code, pub.stderr).toBe(0);
      const result = await sub;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(`hello ${v}`);
      await waitFor(() => got.length === 1);
      expect(got[0].payload).toBe(`hello ${v}`);
      await endAll(watcher);
    }
  });

  it('accepts the mqtt and mqttv3.1 WebSocket subprotocols at /mqtt only', async () => {
    for (const protocol of ['mqtt', 'mqttv3.1']) {
      const ws = new WebSocket(node.wsUrl, protocol);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      expect(ws.protocol).toBe(protocol);
      ws.close();
    }
    const wrongPath = new WebSocket(`ws://127.0.0.1:${node.ports.ws}/other`, 'mqtt');
    const failed = await new Promise<boolean>((resolve) => {
      wrongPath.once('open', () => resolve(false));
      wrongPath.once('error', () => resolve(true));
    });
    expect(failed).toBe(true);
  });

  it('does not match $ topics with leading wildcards and publishes $SYS statistics', async () => {
    const all = await connectClient(node.mqttUrl, { clientId: 'wild' });
    const sys = await connectClient(node.mqttUrl, { clientId: 'sys' });
    const gotAll = collect(all);
    const gotSys = collect(sys);
    await all.subscribeAsync('#');
    await sys.subscribeAsync('$SYS/broker/#');
    await waitFor(() => ['uptime', 'clients/connected', 'messages/received', 'messages/sent', 'bytes/received', 'bytes/sent'].every((n) => gotSys.some((m) => m.topic === `$SYS/broker/${n}`)), 3000, '$SYS topics');
    // Retained values from an earlier interval may arrive first; a later interval counts both clients.
    const connectedCount = () => Number(gotSys.filter((m) => m.topic === '$SYS/broker/clients/connected').at(-1)?.payload ?? 0);
    await waitFor(() => connectedCount() >= 2, 3000, '$SYS clients/connected >= 2');
    expect(gotSys.find((m) => m.topic === '$SYS/broker/uptime')!.payload).toMatch(/^\d+ seconds$/);
    expect(gotAll.filter((m) => m.topic.startsWith('$'))).toEqual([]);
    // Clients cannot write $SYS.
    const { client: v5 } = await connectWithConnack(node.mqttUrl, { protocolVersion: 5, clientId: 'sys-writer' });
    await expect(v5.publishAsync('$SYS/broker/uptime', 'fake', { qos: 1 })).rejects.toThrow();
    await endAll(all, sys, v5);
  });

  it('records connections in the client registry and traffic in the metrics', async () => {
    const c = await connectClient(node.mqttUrl, { clientId: 'registry-check' });
    const info = node.context.clients.list('mqtt').find((i) => i.clientId === 'registry-check');
    expect(info?.protocol).toBe('mqtt');
    await c.publishAsync('metrics/x', 'm', { qos: 1 });
    await endAll(c);
    await waitFor(() => !node.context.clients.list('mqtt').some((i) => i.clientId === 'registry-check'));
    node.server.broker.stats.flush();
    const text = await node.context.metrics.registry.getSingleMetricAsString('robustmq_messages_received_total');
    expect(text).toMatch(/robustmq_messages_received_total\{protocol="mqtt"\} [1-9]/);
  });

  it('is started by a default node (runtime/protocols.ts) on the mqtt and ws ports', async () => {
    const full = await startTestNode();
    try {
      expect(full.ports.mqtt).toBeGreaterThan(0);
      expect(full.ports.ws).toBeGreaterThan(0);
      const tcp = await connectClient(`mqtt://127.0.0.1:${full.ports.mqtt}`, { clientId: 'full-tcp' });
      const ws = await connectClient(`ws://127.0.0.1:${full.ports.ws}/mqtt`, { clientId: 'full-ws', protocolVersion: 5 });
      const got = collect(ws);
      await ws.subscribeAsync('full/#', { qos: 1 });
      await tcp.publishAsync('full/x', 'through the whole node', { qos: 1 });
      await waitFor(() => got.length === 1);
      await endAll(tcp, ws);
    } finally {
      await full.destroy();
    }
  });
});
