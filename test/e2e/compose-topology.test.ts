/**
 * local/docker-compose.yml, without Docker: the file is parsed, every RobustMQ service's command and environment are
 * checked against the CLI and the config schema, and then run as local processes of the real binary — s3rver and
 * dynalite standing in for LocalStack (their endpoints and credentials replace LocalStack's), 127.0.0.1 for the
 * service host names and free ports for the fixed ones — and driven with real clients: kafkajs and kcat through one
 * broker (forwarding to the other for the partitions it leads), MQTT through the other. The compose health check
 * command runs against every process too.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTHCHECK_SCRIPT, INTERNAL_PORTS } from '../../infra/ports.js';
import { CONFIG_KEYS } from '../../runtime/config/load.js';
import { envName } from '../../runtime/config/schema.js';
import { assertBuilt, isolatedFlags, startBroker, type StartedBroker } from '../helpers/cli.js';
import { clusterStatus, spawnRole, until, type Child } from '../helpers/cluster.js';
import { configOf, envOf, FREE_PORTS, LOCALSTACK, published, readCompose, type Service } from '../helpers/compose.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';
import { consumeAll, kcat } from '../helpers/kafka-kcat.js';
import { tempDir } from '../helpers/node.js';
import { S3_TEST_CREDENTIALS, startS3rver, type TestS3 } from '../helpers/s3rver.js';

const run = promisify(execFile);

const compose = await readCompose({ ROBUSTMQ_ADVERTISED_HOST: '127.0.0.1' });
/** Services running robustmq (the image's entrypoint); one-shot helpers on the same image override the entrypoint. */
const nodes = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === 'local/Dockerfile' && s.entrypoint === undefined);

/** Named volumes as local directories: `/secrets` of a service mounting `robustmq-secrets` is `<volumes>/robustmq-secrets`. */
const volumesDir = mkdtempSync(path.join(os.tmpdir(), 'robustmq-compose-volumes-'));
function mounts(s: Service): Array<[string, string]> {
  return (s.volumes ?? []).map((v) => {
    const [volume, mountPoint] = v.split(':');
    mkdirSync(path.join(volumesDir, volume!), { recursive: true });
    return [mountPoint!, path.join(volumesDir, volume!)];
  });
}
/** The service's environment with paths inside its mounted volumes moved to their local directories. */
function withVolumes(s: Service, env: Record<string, string> = envOf(s)): Record<string, string> {
  const out = { ...env };
  for (const [key, value] of Object.entries(out)) {
    for (const [mountPoint, dir] of mounts(s)) if (value.startsWith(`${mountPoint}/`)) out[key] = dir + value.slice(mountPoint.length);
  }
  return out;
}
/** Runs a one-shot `node -e` helper service as compose would (its volumes as local directories). */
async function runOneShot(name: string): Promise<string> {
  const s = compose.services[name]!;
  const [node, ...args] = [...s.entrypoint!, ...s.command!];
  expect(node).toBe('node');
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, ...withVolumes(s) } });
  return stdout;
}
// As `docker compose up` does before any broker starts (depends_on: service_completed_successfully).
const secretsRun = await runOneShot('robustmq-secrets');
const cfg = (s: Service) => configOf(s, withVolumes(s));
afterAll(() => rm(volumesDir, { recursive: true, force: true }));
const byRole = (role: string) => nodes.filter(([, s]) => s.command?.[0] === role);
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`local/docker-compose.yml has no service ${name}`);
  return s;
};

describe('compose file', () => {
  it('runs the image built from local/Dockerfile for one meta, two brokers and the standalone profile', () => {
    expect(nodes.map(([name]) => name).sort()).toEqual(['robustmq-broker-1', 'robustmq-broker-2', 'robustmq-meta', 'robustmq-standalone']);
    for (const [, s] of nodes) expect(s.build).toEqual({ context: '..', dockerfile: 'local/Dockerfile' });
    expect(byRole('meta').map(([name]) => name)).toEqual(['robustmq-meta']);
    expect(byRole('broker').length).toBeGreaterThanOrEqual(2);
  });

  it('gives every process flags and ROBUSTMQ_* variables the CLI knows, with valid values', () => {
    const known = new Set(CONFIG_KEYS.map((k) => envName(k)));
    for (const [name, s] of nodes) {
      for (const variable of Object.keys(envOf(s)).filter((k) => k.startsWith('ROBUSTMQ_'))) {
        expect(known, `${name}: ${variable} is not a config option`).toContain(variable);
      }
      expect(() => cfg(s), name).not.toThrow();
    }
  });

  it('names each broker distinctly and makes it reachable by its service name, without auth', () => {
    const brokers = byRole('broker').map(([name, s]) => ({ name, config: cfg(s) }));
    expect(new Set(brokers.map((b) => b.config.brokerId)).size).toBe(brokers.length);
    for (const { name, config } of brokers) {
      expect(config.brokerId).toMatch(/^broker-\d+$/);
      expect(config.internalHost).toBe(name);
      for (const [key, port] of Object.entries(INTERNAL_PORTS)) expect((config as Record<string, unknown>)[key], key).toBe(port);
      expect(config.auth).toBe('off');
    }
  });

  it('generates one cluster secret on the first up, keeps it afterwards, and gives it to every broker read-only', async () => {
    const secrets = service('robustmq-secrets');
    expect(secrets.restart).toBe('no');
    expect(secretsRun).toMatch(/^generated /);
    const file = withVolumes(secrets).SECRET_FILE!;
    const secret = readFileSync(file, 'utf8');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o400);
    expect(statSync(file).uid).toBe(1000);
    expect(await runOneShot('robustmq-secrets')).toMatch(/^kept /);
    expect(readFileSync(file, 'utf8')).toBe(secret);
    for (const [name, s] of byRole('broker')) {
      expect(s.volumes, name).toContain('robustmq-secrets:/secrets:ro');
      expect(cfg(s).clusterSecret, name).toBe(secret);
    }
    expect(cfg(service('robustmq-meta')).clusterSecret).toBeUndefined();
  });

  it('points meta and brokers at the same LocalStack table, and brokers at the bucket the init creates', () => {
    const meta = cfg(service('robustmq-meta'));
    expect(meta).toMatchObject({ meta: 'dynamodb', dynamodbEndpoint: LOCALSTACK, createTables: true });
    const init = service('localstack-init');
    const bucket = envOf(init).BUCKET;
    expect(envOf(init).AWS_ENDPOINT_URL).toBe(LOCALSTACK);
    expect(init.command?.join(' ')).toContain('aws s3api create-bucket --bucket "$BUCKET"');
    expect(init.restart).toBe('no');
    for (const [name, s] of byRole('broker')) {
      const config = cfg(s);
      expect(config, name).toMatchObject({
        storage: 's3',
        meta: 'dynamodb',
        s3Bucket: bucket,
        s3Endpoint: LOCALSTACK,
        s3ForcePathStyle: true,
        dynamodbEndpoint: meta.dynamodbEndpoint,
        dynamodbRegion: meta.dynamodbRegion,
        dynamodbTablePrefix: meta.dynamodbTablePrefix,
        advertisedHost: '127.0.0.1',
      });
    }
  });

  it('publishes each broker on its own host ports (broker-1 on the standard ones), and neither meta nor the internal ports', () => {
    const defaults = cfg(service('robustmq-broker-1'));
    const containerPorts = [defaults.mqttPort, defaults.wsPort, defaults.kafkaPort, defaults.adminPort].sort();
    expect(published(service('robustmq-broker-1'))).toEqual([
      [1883, 1883],
      [8083, 8083],
      [9092, 9092],
      [8080, 8080],
    ]);
    const hostPorts: number[] = [];
    for (const [name, s] of byRole('broker')) {
      const ports = published(s);
      expect(ports.map(([, c]) => c).sort(), name).toEqual(containerPorts);
      hostPorts.push(...ports.map(([h]) => h));
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const port of Object.values(INTERNAL_PORTS)) expect(hostPorts).not.toContain(port);
    expect(service('robustmq-meta').ports).toBeUndefined();
    // The standalone profile takes broker-1's ports: it is the other way to run, not a third member.
    expect(published(service('robustmq-standalone'))).toEqual(published(service('robustmq-broker-1')));
  });

  it('starts meta once LocalStack is healthy and brokers once the bucket exists and meta is healthy, and health-checks everything', () => {
    const localstack = service('localstack');
    expect(String(envOf(localstack).SERVICES).split(',').sort()).toEqual(['dynamodb', 's3']);
    expect(localstack.healthcheck?.test.join(' ')).toMatch(/s3api list-buckets.*dynamodb list-tables/);
    expect(service('localstack-init').depends_on).toEqual({ localstack: { condition: 'service_healthy' } });
    expect(service('robustmq-meta').depends_on).toEqual({ localstack: { condition: 'service_healthy' } });
    for (const [name, s] of byRole('broker')) {
      expect(s.depends_on, name).toEqual({
        localstack: { condition: 'service_healthy' },
        'localstack-init': { condition: 'service_completed_successfully' },
        'robustmq-meta': { condition: 'service_healthy' },
        'robustmq-secrets': { condition: 'service_completed_successfully' },
      });
      // A broker that was replaced exits (code 75) for its supervisor to start it again.
      expect(s.restart).toBe('unless-stopped');
    }
    for (const [, s] of nodes) expect(s.healthcheck?.test).toEqual(['CMD', 'node', '-e', HEALTHCHECK_SCRIPT]);
  });

  it('keeps the standalone node behind its profile, with segment storage on a named volume', () => {
    const s = service('robustmq-standalone');
    expect(s.profiles).toEqual(['standalone']);
    expect(s.depends_on).toBeUndefined();
    const config = cfg(s);
    expect(config).toMatchObject({ storage: 'segment', meta: 'embedded' });
    const [volume, mountPoint] = s.volumes![0]!.split(':');
    expect(mountPoint).toBe(config.dataDir);
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    for (const [name, other] of nodes) if (name !== 'robustmq-standalone') expect(other.profiles, name).toBeUndefined();
  });
});

async function healthcheck(adminPort: number): Promise<number> {
  const [cmd, ...args] = service('robustmq-meta').healthcheck!.test.slice(1);
  return run(cmd === 'node' ? process.execPath : cmd!, args, { env: { ...process.env, ROBUSTMQ_ADMIN_PORT: String(adminPort) } }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
}

/** MQTT: a TCP subscriber receives what a WebSocket publisher sends, at QoS 1. */
async function mqttRoundTrip(ports: Record<string, number>, topic: string): Promise<string[]> {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: `sub-${topic}`, reconnectPeriod: 0 });
  const pub = await mqtt.connectAsync(`ws://127.0.0.1:${ports.ws}/mqtt`, { clientId: `pub-${topic}`, reconnectPeriod: 0 });
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

/**
 * Kafka: kafkajs produces (`partitions` set: to each partition in turn), kcat reads it back through the same address.
 * The producer is idempotent (KIP-98): a partition whose leader is still taking over answers NOT_LEADER, and the
 * retry of a request that went partly through must not store the rest twice.
 */
async function kafkaRoundTrip(port: number, topic: string, partitions?: number): Promise<string[]> {
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'compose-topology', logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const keys = partitions === undefined ? ['k1', 'k2', 'k3'] : Array.from({ length: partitions * 2 }, (_, i) => `k${i + 1}`);
    const messages = keys.map((key, i) => ({ key, value: `value-${i}`, ...(partitions === undefined ? {} : { partition: i % partitions }) }));
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
  return (await consumeAll(port, topic)).map((m) => `${m.key}=${m.payload}`);
}

describe('the S3/DynamoDB cluster (meta + brokers), run against s3rver and dynalite', () => {
  const bucket = envOf(service('localstack-init')).BUCKET!;
  let s3: TestS3;
  let dynamo: Dynalite;
  let dataDir: string;
  let meta: Child | undefined;
  const brokers = new Map<string, Child>();
  const [first, second] = byRole('broker').map(([name]) => name);

  /** The service's environment with LocalStack's endpoints and credentials replaced by the local stand-ins'. */
  function localEnv(s: Service): Record<string, string> {
    const env = envOf(s);
    for (const [key, value] of Object.entries(env)) {
      if (value !== LOCALSTACK) continue;
      if (key === envName('s3Endpoint')) env[key] = s3.endpoint;
      else if (key === envName('dynamodbEndpoint')) env[key] = dynamo.endpoint;
      else throw new Error(`${key} points at LocalStack: no local stand-in for it`);
    }
    return { ...withVolumes(s, env), AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey };
  }

  /** The service's command as a local process: service host names → 127.0.0.1, listeners on loopback free ports. */
  async function startService(name: string): Promise<Child> {
    const s = service(name);
    const [role, ...args] = s.command!;
    const hosts = new Set(Object.keys(compose.services));
    const local = ['--host', '127.0.0.1', '--data-dir', await mkdtemp(path.join(dataDir, `${name}-`)), ...FREE_PORTS];
    const flags = [...args.map((a) => (hosts.has(a) ? '127.0.0.1' : a)), ...local];
    if (role === 'meta') return spawnRole('meta', flags, localEnv(s), 'robustmq meta started');
    expect(role).toBe('broker');
    return spawnRole('broker', flags, localEnv(s), 'robustmq node started');
  }

  beforeAll(async () => {
    assertBuilt();
    // The init container's job: the bucket the brokers use.
    s3 = await startS3rver(bucket);
    dynamo = await startDynalite();
    dataDir = await tempDir('robustmq-compose-');
    // In depends_on order: meta (creates the table), then the brokers.
    meta = await startService('robustmq-meta');
    for (const [name] of byRole('broker')) brokers.set(name, await startService(name));
  }, 90_000);

  afterAll(async () => {
    for (const child of [...brokers.values(), ...(meta ? [meta] : [])]) if (child.child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
    await dynamo?.close();
    await s3?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('passes the compose health check on meta and on every broker', async () => {
    expect(await healthcheck(meta!.ports.admin!)).toBe(0);
    for (const [name, b] of brokers) expect(await healthcheck(b.ports.admin!), name).toBe(0);
    // Every broker sees every other (membership is polled, so a newcomer shows up within a poll or two).
    const ids = byRole('broker').map(([, s]) => cfg(s).brokerId!).sort();
    for (const [name, b] of brokers) {
      const seen = await until(async () => {
        const status = await clusterStatus(b.ports.admin!);
        return status.nodes.length === ids.length ? status.nodes.map((n) => n.brokerId).sort() : undefined;
      }, 10_000);
      expect(seen, name).toEqual(ids);
    }
  });

  it('serves Kafka through one broker for partitions led by either, keeping records in S3 and metadata in DynamoDB', async () => {
    const entry = brokers.get(first!)!;
    const kafka = new Kafka({ brokers: [`127.0.0.1:${entry.ports.kafka}`], clientId: 'compose-admin', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }], waitForLeaders: false })).toBe(true);
    } finally {
      await admin.disconnect();
    }
    // The meta process spreads the partitions over both brokers (it assigns them one by one: wait for all four).
    const led = await until(async () => {
      const status = await clusterStatus(entry.ports.admin!);
      const counts = Object.fromEntries(status.nodes.map((n) => [n.brokerId, n.led.filter((p) => p.topic === 'orders').length]));
      const values = Object.values(counts);
      return values.length === 2 && values.every((c) => c > 0) && values.reduce((a, b) => a + b, 0) === 4 ? counts : undefined;
    }, 20_000);
    expect(Object.values(led).reduce((a, b) => a + b, 0)).toBe(4);

    const got = await kafkaRoundTrip(entry.ports.kafka!, 'orders', 4);
    expect(got.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `k${i + 1}=value-${i}`).sort());

    // Each broker stands for the whole cluster at the address it was dialled at (ROBUSTMQ_ADVERTISED_HOST, same port).
    for (const b of brokers.values()) {
      const { stdout } = await kcat(b.ports.kafka!, ['-L', '-t', 'orders']);
      expect(stdout).toMatch(/ 1 brokers:/);
      expect(stdout).toContain(` at 127.0.0.1:${b.ports.kafka}`);
      expect(stdout).toMatch(/4 partitions:/);
    }

    const client = new S3Client(s3.clientOptions);
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.KeyCount ?? 0).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
    const db = dynamo.client();
    const prefix = envOf(service(first!))[envName('dynamodbTablePrefix')];
    expect((await db.send(new ListTablesCommand({}))).TableNames).toEqual([`${prefix}-meta`]);
    const items = (await db.send(new ScanCommand({ TableName: `${prefix}-meta` }))).Items ?? [];
    expect(items.some((item) => item.ns?.S === 'topics' && item.key?.S === 'orders')).toBe(true);
    expect(items.filter((item) => item.ns?.S === 'partitions' && item.key?.S?.startsWith('orders/'))).toHaveLength(4);
    db.destroy();
  }, 60_000);

  it('serves MQTT over TCP and WebSocket through another broker', async () => {
    expect((await mqttRoundTrip(brokers.get(second!)!.ports, 'sensors')).sort()).toEqual(['sensors/a=one', 'sensors/b=two']);
  });

  it('stops every process cleanly on SIGTERM, as `docker compose down` sends', async () => {
    // Reverse start order: the brokers hand their partitions over (the last one keeps them), then meta.
    for (const name of [...brokers.keys()].reverse()) {
      const b = brokers.get(name)!;
      b.kill('SIGTERM');
      expect(await b.exited, name).toBe(0);
    }
    meta!.kill('SIGTERM');
    expect(await meta!.exited).toBe(0);
  }, 60_000);
});

describe('the standalone profile node, run locally', () => {
  let dataDir: string;
  let broker: StartedBroker | undefined;

  beforeAll(async () => {
    assertBuilt();
    dataDir = await tempDir('robustmq-compose-standalone-');
    const s = service('robustmq-standalone');
    expect(s.command?.[0]).toBe('start');
    broker = await startBroker([...s.command!.slice(1), ...isolatedFlags(dataDir)], envOf(s), 30_000);
  });
  afterAll(async () => {
    if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('passes the health check and serves MQTT and Kafka from segment files in its data dir', async () => {
    expect(await healthcheck(broker!.ports.admin!)).toBe(0);
    expect((await mqttRoundTrip(broker!.ports, 'plant')).sort()).toEqual(['plant/a=one', 'plant/b=two']);
    expect(await kafkaRoundTrip(broker!.ports.kafka!, 'readings')).toEqual(['k1=value-0', 'k2=value-1', 'k3=value-2']);
    const files = await readdir(dataDir, { recursive: true });
    expect(files.some((f) => String(f).includes('readings'))).toBe(true);
    expect(await broker!.stop('SIGTERM')).toBe(0);
  });
});
