/**
 * Kafka ACLs with --auth on and --acl-no-match deny: kcat and kafkajs see TOPIC_AUTHORIZATION_FAILED (29) and
 * GROUP_AUTHORIZATION_FAILED (30) for what their user may not do, Metadata hides topics they may not use, and the
 * admin, offset and idempotence APIs check the right resource (29/30/31). Rules added at runtime apply at once.
 */
import { execFile } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authOf, type AuthService } from '../../runtime/core/auth/service.js';
import { consumeAll, kcat } from '../helpers/kafka-kcat.js';
import { RawKafka } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let port: number;
let auth: AuthService;

const rule = (principal: string, effect: string, action: string, resourceType: string, pattern: string) =>
  auth.acls.add({ principal, effect, action, resourceType, pattern });

beforeAll(async () => {
  node = await startTestNode({ auth: 'on', aclNoMatch: 'deny', groupInitialRebalanceDelayMs: 100 });
  port = node.ports.kafka;
  auth = authOf(node.context);
  await auth.users.add('alice', 'alice-pw');
  await auth.users.add('bob', 'bob-pw');
  await rule('alice', 'allow', 'produce', 'topic', 'orders-*');
  await rule('alice', 'allow', 'create', 'topic', 'orders-*');
  await rule('*', 'deny', 'produce', 'topic', 'orders-frozen');
  await rule('bob', 'allow', 'consume', 'topic', 'orders-*');
  await rule('bob', 'allow', 'consume', 'group', 'bob-*');
  await node.context.topics.create({ name: 'orders-eu', partitions: 1 });
  await node.context.topics.create({ name: 'orders-frozen', partitions: 1 });
  await node.context.topics.create({ name: 'payroll', partitions: 1 });
}, 60_000);
afterAll(() => node.destroy());

const as = (user: string) => [
  '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', `sasl.username=${user}`, '-X', `sasl.password=${user}-pw`,
];

/** Runs kcat for at most `ms`, resolving with its output whether it succeeded, failed or was stopped. */
function kcatOutput(args: string[], ms: number, input = ''): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('kcat', ['-b', `127.0.0.1:${port}`, ...args], { timeout: ms, encoding: 'utf8' }, (_err, stdout, stderr) =>
      resolve(`${stdout}\n${stderr}`),
    );
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

/** A raw connection authenticated with SASL/PLAIN. */
async function rawAs(user: string): Promise<RawKafka> {
  const raw = await RawKafka.connect(port);
  await raw.request(17, 1, { mechanism: 'PLAIN' });
  const res = await raw.request(36, 1, { authBytes: Buffer.from(`\u0000${user}\u0000${user}-pw`) });
  expect(res.errorCode).toBe(0);
  return raw;
}

describe('kcat', () => {
  it('produces where allowed and gets Topic authorization failed elsewhere; deny wins', async () => {
    await kcat(port, ['-P', '-t', 'orders-eu', ...as('alice')], 'a1\n');
    expect((await consumeAll(port, 'orders-eu', as('bob'))).map((m) => m.payload)).toEqual(['a1']);
    for (const topic of ['payroll', 'orders-frozen']) {
      const out = await kcatOutput(['-P', '-t', topic, ...as('alice')], 15_000, 'x\n');
      expect(out).toMatch(/Topic authorization failed/i);
    }
    expect(await node.context.topics.partition('payroll', 0).highWatermark()).toBe(0);
  });

  it('is refused a consumer group it may not use (Group authorization failed)', async () => {
    const out = await kcatOutput(['-G', 'someone-elses', '-X', 'auto.offset.reset=earliest', '-c', '1', '-q', 'orders-eu', ...as('bob')], 8000);
    expect(out).toMatch(/Group authorization failed/i);
  });

  it('consumes in a group it may use', async () => {
    const out = await kcatOutput(
      ['-G', 'bob-group', '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-c', '1', '-q', '-f', '%s\n', 'orders-eu', ...as('bob')],
      20_000,
    );
    expect(out.split('\n')).toContain('a1');
  });
});

describe('kafkajs', () => {
  const client = (user: string) =>
    new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: `acl-${user}`,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism: 'scram-sha-512', username: user, password: `${user}-pw` },
    });

  it('gets TOPIC_AUTHORIZATION_FAILED producing where the user may only consume', async () => {
    const producer = client('bob').producer();
    await producer.connect();
    await expect(producer.send({ topic: 'orders-eu', messages: [{ value: 'x' }] })).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    await producer.disconnect();
  });

  it('gets GROUP_AUTHORIZATION_FAILED joining a group the user may not use', async () => {
    const consumer = client('bob').consumer({ groupId: 'not-bobs', retry: { retries: 0 } });
    const crashed = new Promise<unknown>((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error)));
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders-eu' });
    await consumer.run({ eachMessage: async () => undefined });
    expect(await crashed).toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    await consumer.disconnect();
  });

  it('lets an admin create only the topics its user may create', async () => {
    const admin = client('alice').admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'orders-us' }] })).toBe(true);
    await expect(admin.createTopics({ topics: [{ topic: 'hr-data' }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
    });
    await admin.disconnect();
  });
});

describe('the wire protocol', () => {
  it('Metadata lists only usable topics and answers 29 for a named one', async () => {
    const raw = await rawAs('bob');
    const all = await raw.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const names = all.topics.map((t: { name: string }) => t.name).sort();
    expect(names).toEqual(expect.arrayContaining(['orders-eu', 'orders-frozen']));
    expect(names).not.toContain('payroll');
    const named = await raw.request(3, 9, { topics: [{ name: 'payroll' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    expect(named.topics[0]).toMatchObject({ name: 'payroll', errorCode: 29, partitions: [] });
    raw.close();
  });

  it('Fetch, ListOffsets, DeleteTopics and CreateTopics check their topic (29)', async () => {
    const raw = await rawAs('alice');
    const fetch = await raw.request(1, 11, {
      maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'orders-eu', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    expect(fetch.responses[0].partitions[0]).toMatchObject({ errorCode: 29, highWatermark: -1 });
    expect(fetch.responses[0].partitions[0].records).toHaveLength(0);
    const offsets = await raw.request(2, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'orders-eu', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
    expect(offsets.topics[0].partitions[0].errorCode).toBe(29);
    const del = await raw.request(20, 4, { topicNames: ['orders-eu'], timeoutMs: 1000 });
    expect(del.responses[0]).toMatchObject({ name: 'orders-eu', errorCode: 29 });
    expect(node.context.topics.get('orders-eu')).toBeDefined();
    const create = await raw.request(19, 5, { topics: [{ name: 'hr-2', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    expect(create.topics[0]).toMatchObject({ name: 'hr-2', errorCode: 29 });
    raw.close();
  });

  it('OffsetCommit and OffsetFetch check the group (30) and each topic (29)', async () => {
    const raw = await rawAs('bob');
    const commit = (groupId: string, topic: string) =>
      raw.request(8, 7, {
        groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    expect((await commit('other-group', 'orders-eu')).topics[0].partitions[0].errorCode).toBe(30);
    expect((await commit('bob-offsets', 'payroll')).topics[0].partitions[0].errorCode).toBe(29);
    expect((await commit('bob-offsets', 'orders-eu')).topics[0].partitions[0].errorCode).toBe(0);
    const fetched = await raw.request(9, 7, { groupId: 'other-group', topics: [{ name: 'orders-eu', partitionIndexes: [0] }], requireStable: false });
    expect(fetched.errorCode).toBe(30);
    const mine = await raw.request(9, 7, { groupId: 'bob-offsets', topics: null, requireStable: false });
    expect(mine).toMatchObject({ errorCode: 0, topics: [{ name: 'orders-eu', partitions: [expect.objectContaining({ committedOffset: 1 })] }] });
    raw.close();
  });

  it('InitProducerId needs produce on the cluster (31); a rule added at runtime applies at once', async () => {
    const raw = await rawAs('alice');
    const body = { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 };
    expect((await raw.request(22, 4, body)).errorCode).toBe(31);
    const added = await rule('alice', 'allow', 'produce', 'cluster', '*');
    expect((await raw.request(22, 4, body)).errorCode).toBe(0);
    await auth.acls.delete(added.id);
    expect((await raw.request(22, 4, body)).errorCode).toBe(31);
    raw.close();
  });
});
