/**
 * Stateless compute: a node on S3 storage (s3rver) and DynamoDB metadata (dynalite) is killed with SIGKILL while
 * librdkafka (kcat, acks=all) produces; a brand-new node with an EMPTY data dir on the same bucket and table serves
 * every acknowledged record once and in order, the consumer group's committed offsets, the MQTT persistent session
 * with its queued messages, and the retained message.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedFlags, startBroker, type StartedBroker } from '../helpers/cli.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { consumeAll } from '../helpers/kafka-kcat.js';
import { collect, connectClient, sleep, waitFor } from '../helpers/mqtt.js';
import { tempDir } from '../helpers/node.js';
import { S3_TEST_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

let s3: TestS3;
let dynamo: Dynalite;
let broker: StartedBroker | undefined;
const env = {
  AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1',
};

beforeAll(async () => {
  s3 = await startS3rver();
  dynamo = await startDynalite();
});
afterAll(async () => {
  if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
  await dynamo?.close();
  await s3?.close();
});

async function freshNode(): Promise<StartedBroker> {
  const flags = [
    ...isolatedFlags(await tempDir()),
    ...['--meta', 'dynamodb', '--dynamodb-endpoint', dynamo.endpoint, '--dynamodb-region', 'us-east-1'],
    ...['--storage', 's3', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-region', 'us-east-1'],
    ...['--s3-force-path-style', '--s3-flush-ms', '20', '--group-initial-rebalance-delay-ms', '0'],
  ];
  return startBroker(flags, env);
}

/** One kcat (librdkafka) run producing `values` with acks=all; true when every delivery was acknowledged. */
function kcatProduce(port: number, values: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', 'orders', '-K', ':', '-X', 'acks=all',
      '-X', 'message.timeout.ms=3000', '-X', 'topic.metadata.refresh.interval.ms=1000'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve(code === 0 && !/failed|error/i.test(stderr)));
    child.stdin.end(values.map((v) => `k:${v}`).join('\n') + '\n');
  });
}

describe('a new node with an empty data dir after kill -9 (S3 + DynamoDB)', () => {
  it('serves acknowledged records, group offsets, MQTT sessions and retained messages', async () => {
    broker = await freshNode();
    const admin = `http://127.0.0.1:${broker.ports.admin}`;
    const created = await fetch(`${admin}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orders', partitions: 1 }),
    });
    expect(created.status).toBe(201);

    // MQTT: a retained message, and a persistent session offline with messages queued for it.
    const mqttUrl = () => `mqtt://127.0.0.1:${broker!.ports.mqtt}`;
    const sub = await connectClient(mqttUrl(), { clientId: 'stateless-sub', clean: false });
    await sub.subscribeAsync('plant/#', { qos: 1 });
    await sub.endAsync();
    const pub = await connectClient(mqttUrl(), { clientId: 'stateless-pub' });
    await pub.publishAsync('status/plant', 'running', { qos: 1, retain: true });
    for (let i = 0; i < 5; i++) await pub.publishAsync('plant/line1', `q-${i}`, { qos: 1 });
    await pub.endAsync();

    // Kafka: a consumer group commits after reading the first 20 records.
    const first = Array.from({ length: 20 }, (_, i) => `r-${i}`);
    expect(await kcatProduce(broker.ports.kafka, first)).toBe(true);
    const kafka = (port: number) => new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'st', logLevel: logLevel.NOTHING });
    const consumer = kafka(broker.ports.kafka).consumer({ groupId: 'billing', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    let read = 0;
    await consumer.run({ autoCommit: true, autoCommitInterval: 1, eachMessage: async () => void read++ });
    await waitFor(() => read >= 20, 15_000, 'group to read 20 records');
    await consumer.disconnect();

    // librdkafka keeps producing in small acks=all runs until the node is killed.
    const acked = [...first];
    let stop = false;
    const producing = (async () => {
      for (let n = 20; !stop; n += 10) {
        const values = Array.from({ length: 10 }, (_, i) => `r-${n + i}`);
        if (await kcatProduce(broker!.ports.kafka, values)) acked.push(...values);
        else break;
      }
    })();
    await waitFor(() => acked.length >= 60, 20_000, 'produce to get going');
    await broker.stop('SIGKILL');
    stop = true;
    await producing;

    broker = await freshNode();
    const records = await consumeAll(broker.ports.kafka, 'orders');
    const values = records.map((r) => r.payload!);
    expect(new Set(values).size).toBe(values.length);
    expect(values.slice(0, acked.length)).toEqual(acked);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));

    const offsets = await kafka(broker.ports.kafka).admin().fetchOffsets({ groupId: 'billing', topics: ['orders'] });
    expect(offsets[0].partitions[0].offset).toBe('20');

    const resumed = mqtt.connect(mqttUrl(), { clientId: 'stateless-sub', clean: false, reconnectPeriod: 0 });
    const got = collect(resumed);
    await waitFor(() => got.length >= 5, 10_000, 'queued MQTT messages');
    expect(got.map((m) => m.payload)).toEqual(['q-0', 'q-1', 'q-2', 'q-3', 'q-4']);
    await resumed.endAsync();
    const reader = await connectClient(mqttUrl(), { clientId: 'stateless-reader' });
    const retained = collect(reader);
    await reader.subscribeAsync('status/#', { qos: 1 });
    await waitFor(() => retained.length === 1, 5000, 'retained message');
    expect(retained[0]).toMatchObject({ topic: 'status/plant', payload: 'running' });
    expect(retained[0].packet.retain).toBe(true);
    await reader.endAsync();
    await sleep(10);
  });
});
