/**
 * Issue acceptance for the segment engine: a Kafka producer (acks=all) and an MQTT QoS 1 publisher write while the
 * broker process is killed with SIGKILL; after a restart on the same data dir every acknowledged message is there
 * exactly once, in order — Kafka records in the topic's log, MQTT messages in the offline persistent session's queue.
 */
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedFlags, startBroker, type StartedBroker } from '../helpers/cli.js';
import { consumeAll } from '../helpers/kafka-kcat.js';
import { collect, connectClient, sleep, waitFor } from '../helpers/mqtt.js';
import { tempDir } from '../helpers/node.js';

let broker: StartedBroker | undefined;
afterAll(async () => {
  if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
});

async function kafkaWriter(port: number, acked: string[], stop: { done: boolean }): Promise<void> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'kill9', logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    for (let i = 0; !stop.done; i++) {
      const value = `k-${i}`;
      await producer.send({ topic: 'durable', acks: -1, messages: [{ key: 'same', value }] });
      acked.push(value);
    }
  } catch {
    // the broker died: what was acknowledged so far is what must survive
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

async function mqttWriter(url: string, acked: string[], stop: { done: boolean }): Promise<void> {
  const pub = await connectClient(url, { clientId: 'kill9-pub' });
  pub.on('error', () => undefined);
  // mqtt.js keeps an unacknowledged publish pending across a lost connection; stop waiting when the socket closes.
  const closed = new Promise<never>((_, reject) => pub.once('close', () => reject(new Error('closed'))));
  closed.catch(() => undefined);
  try {
    for (let i = 0; !stop.done; i++) {
      const payload = `m-${i}`;
      await Promise.race([pub.publishAsync('durable/m', payload, { qos: 1 }), closed]);
      acked.push(payload);
    }
  } catch {
    // connection lost with the broker
  } finally {
    pub.end(true);
  }
}

describe('kill -9 while Kafka acks=all and MQTT QoS 1 publishers write (segment engine, flush always)', () => {
  it('keeps every acknowledged message exactly once, in order', async () => {
    const dataDir = await tempDir();
    broker = await startBroker([...isolatedFlags(dataDir), '--flush', 'always']);
    const admin = `http://127.0.0.1:${broker.ports.admin}`;
    const created = await fetch(`${admin}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'durable', partitions: 1 }),
    });
    expect(created.status).toBe(201);

    // A persistent MQTT session subscribed at QoS 1, then offline: publishes are queued for it.
    const mqttUrl = () => `mqtt://127.0.0.1:${broker!.ports.mqtt}`;
    const sub = await connectClient(mqttUrl(), { clientId: 'kill9-sub', clean: false });
    await sub.subscribeAsync('durable/#', { qos: 1 });
    await sub.endAsync();

    const kafkaAcked: string[] = [];
    const mqttAcked: string[] = [];
    const stop = { done: false };
    const writers = [kafkaWriter(broker.ports.kafka, kafkaAcked, stop), mqttWriter(mqttUrl(), mqttAcked, stop)];
    await waitFor(() => kafkaAcked.length >= 50 && mqttAcked.length >= 50, 15_000, 'writers to get going');
    await sleep(Math.floor(Math.random() * 200));
    await broker.stop('SIGKILL');
    stop.done = true;
    await Promise.all(writers);

    broker = await startBroker(isolatedFlags(dataDir));
    const records = await consumeAll(broker.ports.kafka, 'durable');
    const values = records.map((r) => r.payload!);
    expect(new Set(values).size).toBe(values.length);
    // Acknowledged records are a prefix of what is stored; at most the one in flight at the kill may follow.
    expect(values.slice(0, kafkaAcked.length)).toEqual(kafkaAcked);
    expect(values.length - kafkaAcked.length).toBeLessThanOrEqual(1);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));

    // Listen before CONNACK: the queued messages arrive right behind it.
    const resumed = mqtt.connect(mqttUrl(), { clientId: 'kill9-sub', clean: false, reconnectPeriod: 0 });
    const got = collect(resumed);
    await waitFor(() => got.length >= mqttAcked.length, 10_000, 'queued MQTT messages').catch((err) => {
      throw new Error(`${(err as Error).message}: got ${got.length} of ${mqttAcked.length} acknowledged, first ${got[0]?.payload}`);
    });
    await sleep(200);
    const payloads = got.map((m) => m.payload);
    expect(new Set(payloads).size).toBe(payloads.length);
    expect(payloads.slice(0, mqttAcked.length)).toEqual(mqttAcked);
    expect(payloads.length - mqttAcked.length).toBeLessThanOrEqual(1);
    await resumed.endAsync();
    expect(await broker.stop('SIGTERM')).toBe(0);
  });
});
