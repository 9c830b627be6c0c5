/**
 * local/docker-compose.yml, without Docker: the file is parsed, every RobustMQ service's command and environment are
 * checked against the CLI and the config schema, and then run as local processes of the real binary, with s3rver
 * and dynalite standing in for LocalStack (their endpoints and credentials replace LocalStack's), and driven with
 * real MQTT (TCP and WebSocket) and Kafka clients. The compose health check command runs against them too.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTHCHECK_SCRIPT } from '../../infra/ports.js';
import { startCommand } from '../../runtime/cli/start.js';
import { CONFIG_KEYS, loadConfig } from '../../runtime/config/load.js';
import { envName, type NodeConfig } from '../../runtime/config/schema.js';
import { assertBuilt, isolatedFlags, ROOT, startBroker, type StartedBroker } from '../helpers/cli.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { consumeAll } from '../helpers/kafka-kcat.js';
import { tempDir } from '../helpers/node.js';
import { S3_TEST_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

const run = promisify(execFile);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose variable substitution: `${NAME:-default}`, `${NAME}`, and `$$` for a literal `$`. */
function interpolate<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    return value
      .replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => vars[name] || fallback || '')
      .replace(/\$\$/g, '$') as T;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)])) as T;
  return value;
}

const raw = await readFile(path.join(ROOT, 'local/docker-compose.yml'), 'utf8');
const compose = interpolate(parse(raw, { merge: true }) as Compose, { ROBUSTMQ_ADVERTISED_HOST: '127.0.0.1' });
const nodes = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'local/Dockerfile');
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`local/docker-compose.yml has no service ${name}`);
  return s;
};
const envOf = (s: Service): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));

/** The config a service's node would run with: its flags through the real `start` command parser, its env. */
function configOf(s: Service): NodeConfig {
  expect(s.command?.[0]).toBe('start');
  const cmd = startCommand().exitOverride();
  cmd.action(() => undefined);
  cmd.parse(s.command!.slice(1), { from: 'user' });
  const { config: configFile, ...flags } = cmd.opts<Record<string, unknown>>();
  expect(configFile).toBeUndefined();
  return loadConfig({ flags, env: envOf(s) });
}

describe('compose file', () => {
  it('runs the image built from local/Dockerfile for the S3/DynamoDB node and the standalone profile', () => {
    expect(nodes.map(([name]) => name).sort()).toEqual(['robustmq', 'robustmq-standalone']);
    for (const [, s] of nodes) expect(s.build).toEqual({ context: '..', dockerfile: 'local/Dockerfile' });
  });

  it('gives every node flags and ROBUSTMQ_* variables the CLI knows, with valid values', () => {
    const known = new Set(CONFIG_KEYS.map((k) => envName(k)));
    for (const [name, s] of nodes) {
      for (const variable of Object.keys(envOf(s)).filter((k) => k.startsWith('ROBUSTMQ_'))) {
        expect(known, `${name}: ${variable} is not a config option`).toContain(variable);
      }
      expect(() => configOf(s), name).not.toThrow();
    }
  });

  it('points the default node at LocalStack with S3 storage and DynamoDB metadata, in the bucket the init creates', () => {
    const config = configOf(service('robustmq'));
    expect(config).toMatchObject({ storage: 's3', meta: 'dynamodb', s3ForcePathStyle: true, advertisedHost: '127.0.0.1' });
    expect(new URL(config.s3Endpoint!).hostname).toBe('localstack');
    expect(new URL(config.dynamodbEndpoint!).hostname).toBe('localstack');
    const init = service('localstack-init');
    const bucket = envOf(init).BUCKET;
    expect(config.s3Bucket).toBe(bucket);
    expect(envOf(init).AWS_ENDPOINT_URL).toBe(config.s3Endpoint);
    expect(init.command?.join(' ')).toContain('aws s3api create-bucket --bucket "$BUCKET"');
    expect(init.restart).toBe('no');
  });

  it('starts nodes only once LocalStack is healthy and the bucket exists, and health-checks everything', () => {
    const localstack = service('localstack');
    expect(String(envOf(localstack).SERVICES).split(',').sort()).toEqual(['dynamodb', 's3']);
    expect(localstack.healthcheck?.test.join(' ')).toMatch(/s3api list-buckets.*dynamodb list-tables/);
    expect(service('localstack-init').depends_on).toEqual({ localstack: { condition: 'service_healthy' } });
    expect(service('robustmq').depends_on).toEqual({
      localstack: { condition: 'service_healthy' },
      'localstack-init': { condition: 'service_completed_successfully' },
    });
    for (const [, s] of nodes) {
      expect(s.healthcheck?.test).toEqual(['CMD', 'node', '-e', HEALTHCHECK_SCRIPT]);
      expect(s.ports).toEqual(['1883:1883', '8083:8083', '9092:9092', '8080:8080']);
    }
  });

  it('keeps the standalone node behind its profile, with segment storage on a named volume', () => {
    const s = service('robustmq-standalone');
    expect(s.profiles).toEqual(['standalone']);
    expect(s.depends_on).toBeUndefined();
    const config = configOf(s);
    expect(config).toMatchObject({ storage: 'segment', meta: 'embedded' });
    const [volume, mountPoint] = s.volumes![0]!.split(':');
    expect(mountPoint).toBe(config.dataDir);
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(service('robustmq').profiles).toBeUndefined();
  });
});

/** Starts a compose node service as a local process: its command and environment, loopback and ephemeral ports. */
async function startService(s: Service, dataDir: string, replace: (env: Record<string, string>) => Record<string, string>): Promise<StartedBroker> {
  return startBroker([...s.command!.slice(1), ...isolatedFlags(dataDir)], replace(envOf(s)), 30_000);
}

async function healthcheck(broker: StartedBroker): Promise<number> {
  const [cmd, ...args] = service('robustmq').healthcheck!.test.slice(1);
  return run(cmd === 'node' ? process.execPath : cmd!, args, { env: { ...process.env, ROBUSTMQ_ADMIN_PORT: String(broker.ports.admin) } }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
}

/** MQTT: a TCP subscriber receives what a WebSocket publisher sends, at QoS 1. */
async function mqttRoundTrip(broker: StartedBroker, topic: string): Promise<string[]> {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: `sub-${topic}`, reconnectPeriod: 0 });
  const pub = await mqtt.connectAsync(`ws://127.0.0.1:${broker.ports.ws}/mqtt`, { clientId: `pub-${topic}`, reconnectPeriod: 0 });
  try {
    const got: string[] = [];
    const received = new Promise<void>((resolve) => {
      sub.on('message', (t, payload) => {
        got.push(`${t}=${payload.toString()}`);
        if (got.length === 2) resolve();
      });
    });
    await sub.subscribeAsync(`${topic}/#`, { qos: 1 });
    await pub.publishAsync(`${topic}/a`, 'one', { qos: 1 });
    await pub.publishAsync(`${topic}/b`, 'two', { qos: 1 });
    await received;
    return got;
  } finally {
    await Promise.all([sub.endAsync(), pub.endAsync()]);
  }
}

/** Kafka: kafkajs produces (auto-creating the topic), kcat reads it back through the advertised address. */
async function kafkaRoundTrip(broker: StartedBroker, topic: string): Promise<string[]> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'compose-topology', logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages: ['k1', 'k2', 'k3'].map((key, i) => ({ key, value: `value-${i}` })), acks: -1 });
  } finally {
    await producer.disconnect();
  }
  return (await consumeAll(broker.ports.kafka, topic)).map((m) => `${m.key}=${m.payload}`);
}

describe('the default node, run against s3rver and dynalite', () => {
  let s3: TestS3;
  let dynamo: Dynalite;
  let dataDir: string;
  let broker: StartedBroker | undefined;
  const bucket = envOf(service('localstack-init')).BUCKET!;

  beforeAll(async () => {
    assertBuilt();
    // The init container's job: the bucket the nodes use.
    s3 = await startS3rver(bucket);
    dynamo = await startDynalite();
    dataDir = await tempDir('robustmq-compose-');
    const localstack = 'http://localstack:4566';
    broker = await startService(service('robustmq'), dataDir, (env) => ({
      ...env,
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      [envName('s3Endpoint')]: env[envName('s3Endpoint')] === localstack ? s3.endpoint : 'unexpected',
      [envName('dynamodbEndpoint')]: env[envName('dynamodbEndpoint')] === localstack ? dynamo.endpoint : 'unexpected',
    }));
  });
  afterAll(async () => {
    if (broker && broker.child.exitCode === null) await broker.stop('SIGTERM');
    await dynamo?.close();
    await s3?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('passes the compose health check', async () => {
    expect(await healthcheck(broker!)).toBe(0);
  });

  it('serves MQTT over TCP and WebSocket', async () => {
    expect((await mqttRoundTrip(broker!, 'sensors')).sort()).toEqual(['sensors/a=one', 'sensors/b=two']);
  });

  it('serves Kafka, keeping the records in S3 objects and the metadata in the DynamoDB table', async () => {
    expect(await kafkaRoundTrip(broker!, 'orders')).toEqual(['k1=value-0', 'k2=value-1', 'k3=value-2']);
    const client = new S3Client(s3.clientOptions);
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.KeyCount ?? 0).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
    const db = dynamo.client();
    const prefix = envOf(service('robustmq'))[envName('dynamodbTablePrefix')];
    expect((await db.send(new ListTablesCommand({}))).TableNames).toContain(`${prefix}-meta`);
    const items = await db.send(new ScanCommand({ TableName: `${prefix}-meta` }));
    expect(items.Items?.some((item) => item.ns?.S === 'topics')).toBe(true);
  });

  it('stops cleanly on SIGTERM, as `docker compose down` sends', async () => {
    expect(await broker!.stop('SIGTERM')).toBe(0);
  });
});

describe('the standalone profile node, run locally', () => {
  let dataDir: string;
  let broker: StartedBroker | undefined;

  beforeAll(async () => {
    assertBuilt();
    dataDir = await tempDir('robustmq-compose-standalone-');
    broker = await startService(service('robustmq-standalone'), dataDir, (env) => env);
  });
  afterAll(async () => {
    if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('passes the health check and serves MQTT and Kafka from segment files in its data dir', async () => {
    expect(await healthcheck(broker!)).toBe(0);
    expect((await mqttRoundTrip(broker!, 'plant')).sort()).toEqual(['plant/a=one', 'plant/b=two']);
    expect(await kafkaRoundTrip(broker!, 'readings')).toEqual(['k1=value-0', 'k2=value-1', 'k3=value-2']);
    const files = await readdir(dataDir, { recursive: true });
    expect(files.some((f) => String(f).includes('readings'))).toBe(true);
    expect(await broker!.stop('SIGTERM')).toBe(0);
  });
});
