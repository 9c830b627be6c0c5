/**
 * The consumer-group APIs on the wire, at the oldest and newest (flexible) versions we serve, through a real node.
 * kafkajs and librdkafka exercise the middle versions in test/e2e.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireClient } from '../helpers/kafka-wire.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
const clients: WireClient[] = [];

async function client(): Promise<WireClient> {
  const c = await WireClient.connect(node.ports.kafka);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  node = await startTestNode({ groupInitialRebalanceDelayMs: 0 });
  await node.context.topics.create({ name: 'wire', partitions: 2 });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await node?.destroy();
});

const API = { offsetCommit: 8, offsetFetch: 9, findCoordinator: 10, join: 11, heartbeat: 12, leave: 13, sync: 14, describe: 15, list: 16, apiVersions: 18, deleteGroups: 42 };
const protocols = [{ name: 'range', metadata: Buffer.from([0, 1, 2]) }];

const joinBody = (groupId: string, memberId = '', extra: Record<string, unknown> = {}) => ({
  groupId,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 2000,
  memberId,
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols,
  reason: null,
  ...extra,
});

describe('group APIs on the wire', () => {
  it('advertises the group APIs with the versions clients need', async () => {
    const c = await client();
    const res = await c.send(API.apiVersions, 3, { clientSoftwareName: 'wire', clientSoftwareVersion: '1' });
    const ranges = Object.fromEntries(res.apiKeys.map((k: { apiKey: number; minVersion: number; maxVersion: number }) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(ranges).toMatchObject({
      8: [0, 8],
      9: [1, 8],
      10: [0, 4],
      11: [0, 9],
      12: [0, 4],
      13: [0, 5],
      14: [0, 5],
      15: [0, 5],
      16: [0, 5],
      42: [0, 2],
    });
  });

  it('FindCoordinator names this node, one key (v0) or a batch (v4)', async () => {
    const c = await client();
    const v0 = await c.send(API.findCoordinator, 0, { key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: 0, host: '127.0.0.1', port: node.ports.kafka });
    const v4 = await c.send(API.findCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b', ''] });
    expect(v4.coordinators).toEqual([
      { key: 'a', nodeId: 0, host: '127.0.0.1', port: node.ports.kafka, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 0, host: '127.0.0.1', port: node.ports.kafka, errorCode: 0, errorMessage: null },
      expect.objectContaining({ key: '', errorCode: 24 }),
    ]);
  });

  it('runs a whole group lifecycle at the newest, flexible versions', async () => {
    const c = await client();
    const first = await c.send(API.join, 9, joinBody('flex'), 'flexy');
    expect(first.errorCode).toBe(79); // MEMBER_ID_REQUIRED
    expect(first.memberId).toMatch(/^flexy-/);
    const joined = await c.send(API.join, 9, joinBody('flex', first.memberId), 'flexy');
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: first.memberId, skipAssignment: false });
    expect(joined.members).toEqual([{ memberId: first.memberId, groupInstanceId: null, metadata: Buffer.from([0, 1, 2]) }]);

    const synced = await c.send(API.sync, 5, {
      groupId: 'flex', generationId: 1, memberId: first.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('mine') }],
    });
    expect(synced).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect(synced.assignment.toString()).toBe('mine');
    expect((await c.send(API.heartbeat, 4, { groupId: 'flex', generationId: 1, memberId: first.memberId, groupInstanceId: null })).errorCode).toBe(0);

    const committed = await c.send(API.offsetCommit, 8, {
      groupId: 'flex', generationIdOrMemberEpoch: 1, memberId: first.memberId, groupInstanceId: null,
      topics: [{ name: 'wire', partitions: [{ partitionIndex: 1, committedOffset: 17, committedLeaderEpoch: 0, committedMetadata: 'm' }, { partitionIndex: 9, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }, { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(committed.topics).toEqual([
      { name: 'wire', partitions: [{ partitionIndex: 1, errorCode: 0 }, { partitionIndex: 9, errorCode: 3 }] },
      { name: 'nope', partitions: [{ partitionIndex: 0, errorCode: 3 }] },
    ]);

    const fetched = await c.send(API.offsetFetch, 8, {
      groups: [{ groupId: 'flex', topics: null }, { groupId: 'other', topics: [{ name: 'wire', partitionIndexes: [0] }] }],
      requireStable: false,
    });
    expect(fetched.groups).toEqual([
      { groupId: 'flex', errorCode: 0, topics: [{ name: 'wire', partitions: [{ partitionIndex: 1, committedOffset: 17, committedLeaderEpoch: 0, metadata: 'm', errorCode: 0 }] }] },
      { groupId: 'other', errorCode: 0, topics: [{ name: 'wire', partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] }] },
    ]);

    const described = await c.send(API.describe, 5, { groups: ['flex'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupId: 'flex', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.groups[0].members[0]).toMatchObject({ memberId: first.memberId, clientId: 'flexy', clientHost: '/127.0.0.1' });
    expect(described.groups[0].members[0].memberAssignment.toString()).toBe('mine');

    const listed = await c.send(API.list, 5, { statesFilter: ['stable'], typesFilter: ['classic'] });
    expect(listed.groups).toContainEqual({ groupId: 'flex', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' });
    expect((await c.send(API.list, 5, { statesFilter: [], typesFilter: ['consumer'] })).groups).toEqual([]);

    const left = await c.send(API.leave, 5, { groupId: 'flex', members: [{ memberId: first.memberId, groupInstanceId: null, reason: 'done' }, { memberId: 'ghost', groupInstanceId: null, reason: null }] });
    expect(left).toMatchObject({ errorCode: 0, members: [{ memberId: first.memberId, groupInstanceId: null, errorCode: 0 }, { memberId: 'ghost', groupInstanceId: null, errorCode: 25 }] });

    const deleted = await c.send(API.deleteGroups, 2, { groupsNames: ['flex', 'never-existed'] });
    expect(deleted.results).toEqual([{ groupId: 'flex', errorCode: 0 }, { groupId: 'never-existed', errorCode: 69 }]);
  });

  it('serves the oldest versions: JoinGroup v0 without the member-id round trip, LeaveGroup v0, OffsetCommit v0', async () => {
    const c = await client();
    const joined = await c.send(API.join, 0, joinBody('old'));
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    const synced = await c.send(API.sync, 0, { groupId: 'old', generationId: 1, memberId: joined.memberId, assignments: [] });
    expect(synced.errorCode).toBe(0);
    expect((await c.send(API.leave, 0, { groupId: 'old', memberId: 'ghost' })).errorCode).toBe(25);
    expect((await c.send(API.leave, 0, { groupId: 'old', memberId: joined.memberId })).errorCode).toBe(0);

    const simple = await c.send(API.offsetCommit, 0, { groupId: 'simple', topics: [{ name: 'wire', partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: null }] }] });
    expect(simple.topics[0].partitions[0].errorCode).toBe(0);
    const fetched = await c.send(API.offsetFetch, 1, { groupId: 'simple', topics: [{ name: 'wire', partitionIndexes: [0, 1] }] });
    expect(fetched.topics[0].partitions.map((p: { committedOffset: number }) => p.committedOffset)).toEqual([5, -1]);
  });

  it('maps coordinator outcomes to Kafka error codes', async () => {
    const a = await client();
    const joined = await a.send(API.join, 5, joinBody('errs', '', { groupInstanceId: 'static-1' }));
    expect(joined.errorCode).toBe(0);
    await a.send(API.sync, 3, { groupId: 'errs', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: 'static-1', assignments: [] });
    expect((await a.send(API.join, 5, joinBody('errs', '', { protocolType: 'connect' }))).errorCode).toBe(23);
    expect((await a.send(API.join, 5, joinBody('errs', '', { sessionTimeoutMs: 1 }))).errorCode).toBe(26);
    expect((await a.send(API.heartbeat, 3, { groupId: 'errs', generationId: 99, memberId: joined.memberId, groupInstanceId: 'static-1' })).errorCode).toBe(22);
    expect((await a.send(API.sync, 3, { groupId: 'errs', generationId: joined.generationId, memberId: 'ghost', groupInstanceId: null, assignments: [] })).errorCode).toBe(25);
    // The same instance id restarting takes over; the old member id is fenced.
    const again = await a.send(API.join, 5, joinBody('errs', '', { groupInstanceId: 'static-1' }));
    expect(again.errorCode).toBe(0);
    expect((await a.send(API.heartbeat, 3, { groupId: 'errs', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: 'static-1' })).errorCode).toBe(82);
    const deleted = await a.send(API.deleteGroups, 0, { groupsNames: ['errs'] });
    expect(deleted.results).toEqual([{ groupId: 'errs', errorCode: 68 }]);
  });
});
