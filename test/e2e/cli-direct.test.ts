/**
 * `robustmq user|acl|topic ... --meta dynamodb`: the CLI works on a cluster's DynamoDB table itself, with the
 * operator's AWS credentials, instead of the admin API. Everything runs as real processes of the compiled CLI on
 * dynalite: what the CLI writes reaches running nodes within 5 s (users and ACLs through the node's store polling,
 * topics through cluster brokers' topic sync and the scheduler), and both modes validate and print the same.
 */
import { rm } from 'node:fs/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import type { UserRecord } from '../../runtime/core/auth/types.js';
import { assertBuilt, isolatedFlags, runCli, startBroker, type CliResult, type StartedBroker } from '../helpers/cli.js';
import { startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from '../helpers/cluster.js';
import { startDynalite, TEST_CREDENTIALS, type Dynalite } from '../helpers/dynalite.js';
import { tempDir } from '../helpers/node.js';

const TOKEN = 'cli-direct-admin-token-0123456789';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
/** Within this the nodes must act on what the CLI wrote (the brief's bound; the nodes poll every 200 ms). */
const PROPAGATION_MS = 5000;
/** Each CLI run is a process loading the whole binary (over a second on a busy machine); some tests make dozens. */
const CLI_TEST_MS = 180_000;

/** Runs the CLI as a child process with fake AWS credentials, `input` on its standard input. */
const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, { ...AWS_ENV, ROBUSTMQ_ADMIN_TOKEN: '' }, 30_000, input);

const directFlags = (endpoint: string, prefix: string): string[] => ['--meta', 'dynamodb', '--dynamodb-endpoint', endpoint, '--dynamodb-table-prefix', prefix];

async function ok(run: Promise<CliResult>): Promise<CliResult> {
  const r = await run;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

/** Whether a fresh MQTT connection with these credentials is accepted; the refusal's message otherwise. */
async function mqttLogin(port: number, username: string, password: string): Promise<true | string> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username, password, reconnectPeriod: 0, connectTimeout: 3000 });
    await client.endAsync();
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether the broker granted a subscription to `filter` (mqtt.js rejects on a SUBACK failure code). */
async function subscribeOutcome(client: MqttClient, filter: string): Promise<'granted' | 'refused'> {
  try {
    await client.subscribeAsync(filter, { qos: 0 });
    await client.unsubscribeAsync(filter);
    return 'granted';
  } catch (err) {
    if (/^Subscribe error/.test((err as Error).message)) return 'refused';
    throw err;
  }
}

describe('against a standalone node on DynamoDB (--auth on)', { timeout: CLI_TEST_MS }, () => {
  const PREFIX = 'clidirect';
  const ALICE_PW = 'alice-direct-secret-pw';
  let dynamo: Dynalite;
  let dataDir: string;
  let node: StartedBroker;
  let inspect: DynamoMetaStore;
  const direct = (...args: string[]) => [...args, ...directFlags(dynamo.endpoint, PREFIX)];
  const admin = (...args: string[]) => [...args, '--admin', `http://127.0.0.1:${node.ports.admin}`, '--admin-token', TOKEN];
  const outputs: string[] = [];
  const run = async (args: string[], input = ''): Promise<CliResult> => {
    const r = await cli(args, input);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    assertBuilt();
    dynamo = await startDynalite();
    dataDir = await tempDir('robustmq-cli-direct-');
    node = await startBroker(
      [
        ...isolatedFlags(dataDir),
        '--meta', 'dynamodb', '--dynamodb-endpoint', dynamo.endpoint, '--dynamodb-table-prefix', PREFIX, '--dynamodb-poll-ms', '200',
        '--auth', 'on', '--admin-token', TOKEN,
      ],
      AWS_ENV,
    );
    inspect = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, tablePrefix: PREFIX, createTables: false });
  }, 60_000);

  afterAll(async () => {
    if (node && node.child.exitCode === null) await node.stop('SIGKILL');
    await inspect?.close();
    await dynamo?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('adds a user the running node lets in within 5 s, and never shows the password', async () => {
    expect(await mqttLogin(node.ports.mqtt, 'alice', ALICE_PW)).not.toBe(true);
    const added = await run(direct('user', 'add', 'alice', '--password-stdin'), `${ALICE_PW}\n`);
    expect(added).toMatchObject({ code: 0, stdout: 'Added user "alice" (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).\n', stderr: '' });
    const start = Date.now();
    await until(async () => ((await mqttLogin(node.ports.mqtt, 'alice', ALICE_PW)) === true ? true : undefined), PROPAGATION_MS);
    expect(Date.now() - start).toBeLessThan(PROPAGATION_MS);
    expect(await mqttLogin(node.ports.mqtt, 'alice', 'wrong')).toMatch(/Bad username or password/);
  });

  it('gives new users SCRAM credentials with --scram-iterations (4096 unless told), only in direct mode', async () => {
    await ok(run(direct('user', 'add', 'carol', '--password', 'carol-pw', '--scram-iterations', '8192')));
    const carol = (await inspect.get<UserRecord>('users', 'carol'))!.value;
    expect(carol.scram['SCRAM-SHA-256'].iterations).toBe(8192);
    expect(carol.scram['SCRAM-SHA-512'].iterations).toBe(8192);
    const alice = (await inspect.get<UserRecord>('users', 'alice'))!.value;
    expect(alice.scram['SCRAM-SHA-256'].iterations).toBe(4096);
    expect(JSON.stringify(alice)).not.toContain(ALICE_PW);
    const viaAdmin = await run(admin('user', 'add', 'dave', '--password', 'x', '--scram-iterations', '8192'));
    expect(viaAdmin.code).not.toBe(0);
    expect(viaAdmin.stderr).toMatch(/--scram-iterations applies with --meta only/);
    const tooFew = await run(direct('user', 'add', 'dave', '--password', 'x', '--scram-iterations', '100'));
    expect(tooFew.code).not.toBe(0);
    expect(await inspect.get('users', 'dave')).toBeUndefined();
  });

  it('lists users as the admin API does, as a table and as JSON', async () => {
    const viaAdmin = await until(async () => {
      const r = await ok(run(admin('user', 'list', '--json')));
      return (JSON.parse(r.stdout) as Array<{ name: string }>).length === 2 ? r : undefined;
    }, PROPAGATION_MS);
    const viaStore = await ok(run(direct('user', 'list', '--json')));
    expect(JSON.parse(viaStore.stdout)).toEqual(JSON.parse(viaAdmin.stdout));
    expect(JSON.parse(viaStore.stdout).map((u: { name: string }) => u.name)).toEqual(['alice', 'carol']);
    const text = await ok(run(direct('user', 'list')));
    expect(text.stdout).toBe((await ok(run(admin('user', 'list')))).stdout);
    expect(text.stdout).toMatch(/^NAME +CREATED +MECHANISMS\nalice +\S+ +PLAIN,SCRAM-SHA-256,SCRAM-SHA-512\ncarol /);
  });

  it('adds a deny rule the node enforces within 5 s, lists it as the admin API does, and deletes it', async () => {
    const alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${node.ports.mqtt}`, { username: 'alice', password: ALICE_PW, reconnectPeriod: 0 });
    try {
      expect(await subscribeOutcome(alice, 'secret/plans')).toBe('granted');
      const added = await ok(run(direct('acl', 'add', '--user', 'alice', '--deny', 'subscribe', '--mqtt', 'secret/#', '--json')));
      const rule = JSON.parse(added.stdout) as { id: string; principal: string; effect: string };
      expect(rule).toMatchObject({ principal: 'alice', effect: 'deny', action: 'subscribe', resourceType: 'mqtt', pattern: 'secret/#' });
      await until(async () => ((await subscribeOutcome(alice, 'secret/plans')) === 'refused' ? true : undefined), PROPAGATION_MS);
      expect(await subscribeOutcome(alice, 'public/news')).toBe('granted');

      const listed = await ok(run(direct('acl', 'list', '--json')));
      expect(JSON.parse(listed.stdout)).toEqual(JSON.parse((await ok(run(admin('acl', 'list', '--json')))).stdout));
      const text = await ok(run(direct('acl', 'list', '--user', 'alice')));
      expect(text.stdout).toBe((await ok(run(admin('acl', 'list', '--user', 'alice')))).stdout);
      expect(text.stdout).toContain(`${rule.id}  alice  deny    subscribe  mqtt:secret/#`);

      const again = await run(direct('acl', 'add', '--user', 'alice', '--deny', 'subscribe', '--mqtt', 'secret/#'));
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(`robustmq: the same rule exists (id ${rule.id}) (ALREADY_EXISTS)\n`);

      expect((await ok(run(direct('acl', 'delete', rule.id)))).stdout).toBe(`Deleted rule ${rule.id}.\n`);
      await until(async () => ((await subscribeOutcome(alice, 'secret/plans')) === 'granted' ? true : undefined), PROPAGATION_MS);
    } finally {
      await alice.endAsync();
    }
  });

  it('deletes a user: the node refuses its login within 5 s', async () => {
    expect(await mqttLogin(node.ports.mqtt, 'alice', ALICE_PW)).toBe(true);
    expect((await ok(run(direct('user', 'delete', 'alice')))).stdout).toBe('Deleted user "alice".\n');
    await until(async () => (/Bad username or password/.test(String(await mqttLogin(node.ports.mqtt, 'alice', ALICE_PW))) ? true : undefined), PROPAGATION_MS);
    const gone = await run(direct('user', 'delete', 'alice'));
    expect(gone).toMatchObject({ code: 1, stderr: 'robustmq: user "alice" does not exist (NOT_FOUND)\n' });
  });

  it('refuses what the admin API refuses, with the same message and exit code', async () => {
    const cases = [
      ['user', 'add', 'no spaces', '--password', 'x'],
      ['user', 'add', 'carol', '--password', 'x'],
      ['acl', 'add', '--user', 'carol', '--allow', 'publish', '--topic', 'orders'],
      ['acl', 'add', '--user', 'carol', '--allow', 'subscribe', '--mqtt', 'a/#/b'],
      ['acl', 'delete', '0123456789abcdef'],
      ['topic', 'create', 'bad/name', '--storage', 'memory'],
      ['topic', 'create', 'ok', '--storage', 'memory', '--partitions', '0'],
      ['topic', 'create', 'ok', '--storage', 'memory', '--retention-ms', '-5'],
      ['topic', 'create', 'ok', '--storage', 'memory', '--flush', 'sometimes'],
      ['topic', 'create', 'ok', '--storage', 'memory', '--mqtt', 'a/#/b'],
      ['topic', 'create', 'ok', '--storage', 'tape'],
      ['topic', 'describe', 'nothing-here'],
    ];
    for (let i = 0; i < cases.length; i += 3) {
      await Promise.all(
        cases.slice(i, i + 3).map(async (args) => {
          const [viaStore, viaAdmin] = await Promise.all([run(direct(...args)), run(admin(...args))]);
          expect({ args, code: viaStore.code, stderr: viaStore.stderr }).toEqual({ args, code: viaAdmin.code, stderr: viaAdmin.stderr });
          expect(viaStore.code, args.join(' ')).not.toBe(0);
        }),
      );
    }
    expect(await inspect.get('topics', 'ok')).toBeUndefined();
  });

  it('still wants exactly one of --password and --password-stdin', async () => {
    for (const flags of [[], ['--password', 'x', '--password-stdin']]) {
      const r = await run(direct('user', 'add', 'erin', ...flags), 'x\n');
      expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'robustmq: give exactly one of --password or --password-stdin\n' });
    }
    expect(await inspect.get('users', 'erin')).toBeUndefined();
  });

  it('names the table and region when the table does not exist, and exits non-zero', async () => {
    for (const args of [['user', 'list'], ['acl', 'add', '--user', 'x', '--allow', 'publish', '--mqtt', 'a'], ['topic', 'create', 't', '--storage', 'memory']]) {
      const r = await run([...args, '--meta', 'dynamodb', '--dynamodb-endpoint', dynamo.endpoint, '--dynamodb-table-prefix', 'nosuch', '--dynamodb-region', 'eu-west-3']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^robustmq: DynamoDB table "nosuch-meta" does not exist in region eu-west-3 at http:\/\/127\.0\.0\.1:\d+: check --dynamodb-table-prefix/);
    }
    const regionFromEnv = await run(['user', 'list', '--meta', 'dynamodb', '--dynamodb-endpoint', dynamo.endpoint, '--dynamodb-table-prefix', 'nosuch']);
    expect(regionFromEnv.stderr).toMatch(/"nosuch-meta" does not exist in region us-east-1 /);
    const tables = await dynamo.client().send(new ListTablesCommand({}));
    expect(tables.TableNames).not.toContain('nosuch-meta');
  });

  it('writes topics for brokers to adopt, says a standalone node only reads them at start, and refuses topic delete', async () => {
    const created = await run(direct('topic', 'create', 'later', '--storage', 'memory', '--partitions', '2'));
    expect(created.code).toBe(0);
    expect(created.stdout).toBe('Created topic "later" with 2 partition(s) on memory storage.\n');
    expect(created.stderr).toMatch(/note: no cluster broker is registered in this table: .*a standalone node \(robustmq start\) reads topics only when it starts/);
    const noStorage = await run(direct('topic', 'create', 'nostorage'));
    expect(noStorage).toMatchObject({ code: 1 });
    expect(noStorage.stderr).toMatch(/give --storage \(memory, segment, s3\)/);
    const del = await run(direct('topic', 'delete', 'later'));
    expect(del.code).toBe(2);
    expect(del.stderr).toMatch(/^robustmq: topic delete does not work with --meta: deleting a topic drops its data/);
    expect(await inspect.get('topics', 'later')).toBeDefined();
  });

  it('printed and logged no password', () => {
    const logged = node.lines.join('\n');
    for (const secret of [ALICE_PW, 'carol-pw']) {
      expect(logged).not.toContain(secret);
      for (const text of outputs) expect(text).not.toContain(secret);
    }
  });
});

describe('against a cluster (robustmq meta + broker, as deployed)', { timeout: CLI_TEST_MS }, () => {
  const KAFKA_PW = 'kafka-direct-secret-pw';
  let infra: ClusterInfra;
  let meta: Child;
  let broker: Child;
  const direct = (...args: string[]) => [...args, ...directFlags(infra.dynamo.endpoint, infra.tablePrefix)];
  const admin = (...args: string[]) => [...args, '--admin', `http://127.0.0.1:${broker.ports.admin}`, '--admin-token', TOKEN];
  const sasl: SASLOptions = { mechanism: 'scram-sha-512', username: 'kafka-user', password: KAFKA_PW };
  const kafka = () => new Kafka({ brokers: [`127.0.0.1:${broker.ports.kafka}`], clientId: 'cli-direct', logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl });

  beforeAll(async () => {
    assertBuilt();
    const base = await startInfra('clidirect-cluster');
    // Brokers authenticate each other with the cluster secret; a test value is enough.
    infra = { ...base, env: { ...base.env, ROBUSTMQ_CLUSTER_SECRET: 'cli-direct-cluster-secret-0123456789abcdef' } };
    meta = await startMeta(infra);
    broker = await startBrokerProcess(infra, 'b1', { auth: 'on', 'admin-token': TOKEN, 'auto-create-topics': false });
  }, 90_000);

  afterAll(async () => {
    for (const child of [broker, meta]) child?.kill('SIGKILL');
    await Promise.all([broker, meta].filter(Boolean).map((c) => c.exited));
    await infra?.close();
  });

  /** Partitions of `topic` with a leader, as Kafka Metadata reports them to `client` (undefined while unknown). */
  async function ledPartitions(client: Admin, topic: string): Promise<number | undefined> {
    const { topics } = await client.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    return partitions.length > 0 && partitions.every((p) => p.leader >= 0) ? partitions.length : undefined;
  }

  async function withAdminClient<T>(fn: (client: Admin) => Promise<T>): Promise<T> {
    const client = kafka().admin();
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.disconnect();
    }
  }

  /**
   * Sends one message until the broker takes it (right after Metadata names a new partition's leader, that broker
   * may still be taking the partition on and answer NOT_LEADER, which clients retry), within what is left of `by`.
   */
  async function produceBy(by: number, topic: string, message: { value: string; partition?: number }): Promise<number> {
    const producer = kafka().producer();
    await producer.connect();
    try {
      return await until(async () => (await producer.send({ topic, messages: [message] }))[0].partition, Math.max(0, by - Date.now()), 100);
    } finally {
      await producer.disconnect();
    }
  }

  it('creates a topic the broker serves to a SASL Kafka client within 5 s, as a user created the same way', async () => {
    await ok(cli(direct('user', 'add', 'kafka-user', '--password-stdin'), KAFKA_PW));
    // Connected (and so authenticated) before the topic exists: the clock then measures only the topic's way in.
    await until(() => withAdminClient(async () => true), PROPAGATION_MS);
    await withAdminClient(async (client) => {
      const created = await ok(cli(direct('topic', 'create', 'orders', '--partitions', '2', '--storage', 's3', '--retention-ms', '3600000', '--mqtt', 'orders/#')));
      expect(created.stdout).toBe('Created topic "orders" with 2 partition(s) on s3 storage.\n');
      expect(created.stderr).toBe('');
      const by = Date.now() + PROPAGATION_MS;
      expect(await until(async () => ((await ledPartitions(client, 'orders')) === 2 ? 2 : undefined), PROPAGATION_MS, 100)).toBe(2);
      await produceBy(by, 'orders', { value: 'first order', partition: 0 });
      expect(Date.now()).toBeLessThan(by);
      const offsets = await client.fetchTopicOffsets('orders');
      expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
    });
  });

  it('describes and lists topics as the admin API does, offsets aside', async () => {
    const fromStore = JSON.parse((await ok(cli(direct('topic', 'describe', 'orders', '--json')))).stdout) as Record<string, unknown>;
    const fromAdmin = JSON.parse((await ok(cli(admin('topic', 'describe', 'orders', '--json')))).stdout) as Record<string, unknown>;
    const { partitionInfo, ...record } = fromAdmin;
    expect(partitionInfo).toHaveLength(2);
    expect(fromStore).toEqual(record);
    expect(fromStore).toMatchObject({ name: 'orders', partitions: 2, storage: 's3', retentionMs: 3_600_000, mqttBindings: ['orders/#'] });
    const text = (await ok(cli(direct('topic', 'describe', 'orders')))).stdout;
    const adminText = (await ok(cli(admin('topic', 'describe', 'orders')))).stdout;
    expect(text.split('\n').slice(0, 4)).toEqual(adminText.split('\n').slice(0, 4));
    expect(text).toMatch(/\n0 +- +- +-\n1 +- +- +-\n$/);
    const list = (await ok(cli(direct('topic', 'list')))).stdout;
    expect(list).toMatch(/^NAME +PARTITIONS +STORAGE +RETENTION +MESSAGES +MQTT\norders +2 +s3 +3600000ms +- +orders\/#\n$/);
    const dup = await cli(direct('topic', 'create', 'orders', '--storage', 's3'));
    expect(dup).toMatchObject({ code: 1, stderr: 'robustmq: topic "orders" already exists (ALREADY_EXISTS)\n' });
  });

  it('grows a topic: the new partition gets a leader and is served within 5 s', async () => {
    const shrink = await cli(direct('topic', 'update', 'orders', '--partitions', '1'));
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toBe((await cli(admin('topic', 'update', 'orders', '--partitions', '1'))).stderr);
    await withAdminClient(async (client) => {
      await ok(cli(direct('topic', 'update', 'orders', '--partitions', '3')));
      const by = Date.now() + PROPAGATION_MS;
      expect(await until(async () => ((await ledPartitions(client, 'orders')) === 3 ? 3 : undefined), PROPAGATION_MS, 100)).toBe(3);
      expect(await produceBy(by, 'orders', { value: 'to p2', partition: 2 })).toBe(2);
      expect(Date.now()).toBeLessThan(by);
    });
  });
});

describe('DynamoDB calls of the CLI (what the IAM policy in docs/security.md must allow)', { timeout: CLI_TEST_MS }, () => {
  it('are DescribeTable, GetItem, PutItem, DeleteItem and Query, for every direct command', async () => {
    const dynamo = await startDynalite();
    try {
      const store = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, tablePrefix: 'iam' });
      await store.close();
      const before = new Map(dynamo.requests);
      const direct = (...args: string[]) => ok(cli([...args, ...directFlags(dynamo.endpoint, 'iam')], 'pw\n'));
      await direct('user', 'add', 'u1', '--password-stdin');
      await direct('user', 'list');
      const rule = JSON.parse((await direct('acl', 'add', '--user', 'u1', '--allow', 'produce', '--topic', 't*', '--json')).stdout) as { id: string };
      await direct('acl', 'list');
      await direct('acl', 'delete', rule.id);
      await direct('topic', 'create', 't1', '--storage', 'segment');
      await direct('topic', 'update', 't1', '--retention-ms', '1000');
      await direct('topic', 'list');
      await direct('topic', 'describe', 't1');
      await direct('user', 'delete', 'u1');
      const used = [...dynamo.requests].filter(([op, n]) => n > (before.get(op) ?? 0)).map(([op]) => op).sort();
      expect(used).toEqual(['DeleteItem', 'DescribeTable', 'GetItem', 'PutItem', 'Query']);
    } finally {
      await dynamo.close();
    }
  });
});
