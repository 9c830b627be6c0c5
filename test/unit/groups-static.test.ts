/** Static membership (KIP-345): group.instance.id survives restarts without rebalances; zombies are fenced. */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../runtime/core/groups/coordinator.js';
import type { JoinResult } from '../../runtime/core/groups/types.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { joinRequest, proto, syncAll, testCoordinator } from '../helpers/groups.js';
import { tempDir } from '../helpers/node.js';

let dir: string;
let meta: EmbeddedMetaStore;
let c: GroupCoordinator;

beforeEach(async () => {
  dir = await tempDir('robustmq-groups-');
  meta = await EmbeddedMetaStore.open(dir);
  c = testCoordinator(meta);
});

afterEach(async () => {
  await c.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

const hb = (j: JoinResult, instance: string | null) =>
  c.heartbeat({ groupId: 'g', generationId: j.generationId, memberId: j.memberId, groupInstanceId: instance });

/** Two static members in a stable generation: [instance i1, instance i2]. */
async function staticPair(): Promise<[JoinResult, JoinResult]> {
  const a = await c.join(joinRequest({ clientId: 'a', groupInstanceId: 'i1' }));
  const [b, ra] = await Promise.all([
    c.join(joinRequest({ clientId: 'b', groupInstanceId: 'i2' })),
    c.join(joinRequest({ clientId: 'a', memberId: a.memberId, groupInstanceId: 'i1' })),
  ]);
  await syncAll(c, [ra!, b!]);
  return [ra!, b!];
}

describe('static membership', () => {
  it('a static member joins without the MEMBER_ID_REQUIRED round trip', async () => {
    const a = await c.join(joinRequest({ clientId: 'a', groupInstanceId: 'i1', requireKnownMemberId: true }));
    expect(a.error).toBeUndefined();
    expect(a.generationId).toBe(1);
  });

  it('a restarted static member with unchanged metadata takes over its old id without a rebalance', async () => {
    const [a, b] = await staticPair();
    const follower = a.memberId === a.leaderId ? b : a;
    const instance = follower === a ? 'i1' : 'i2';
    const restarted = await c.join(joinRequest({ clientId: 'x', groupInstanceId: instance }));
    expect(restarted.error).toBeUndefined();
    expect(restarted.memberId).not.toBe(follower.memberId);
    expect(restarted.generationId).toBe(follower.generationId);
    expect(restarted.members).toEqual([]);
    const [d] = await c.describeGroups(['g']);
    expect(d!.state).toBe('Stable');
    // Its assignment is kept and served to the new id.
    const sync = await c.sync({ groupId: 'g', generationId: restarted.generationId, memberId: restarted.memberId, groupInstanceId: instance, protocolType: null, protocolName: null, assignments: [] });
    expect(sync.assignment.toString()).toBe(`a:${follower.memberId}`);
    // The zombie with the old id is fenced everywhere.
    expect(hb(follower, instance)).toBe('FENCED_INSTANCE_ID');
    const zombieJoin = await c.join(joinRequest({ memberId: follower.memberId, groupInstanceId: instance }));
    expect(zombieJoin.error).toBe('FENCED_INSTANCE_ID');
    const zombieCommit = await c.commitOffsets({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: instance, offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] });
    expect(zombieCommit[0]!.error).toBe('FENCED_INSTANCE_ID');
    expect(hb(restarted, instance)).toBeUndefined();
  });

  it('a restarted static leader learns the members but is told to skip the assignment (KIP-814)', async () => {
    const [a, b] = await staticPair();
    const leader = a.memberId === a.leaderId ? a : b;
    const instance = leader === a ? 'i1' : 'i2';
    const restarted = await c.join(joinRequest({ clientId: 'x', groupInstanceId: instance }));
    expect(restarted.leaderId).toBe(restarted.memberId);
    expect(restarted.skipAssignment).toBe(true);
    expect(restarted.members).toHaveLength(2);
    expect((await c.describeGroups(['g']))[0]!.state).toBe('Stable');
  });

  it('a restarted static member with new metadata triggers a rebalance', async () => {
    const [a, b] = await staticPair();
    const restarted = c.join(joinRequest({ clientId: 'x', groupInstanceId: 'i1', protocols: [proto('range', 'more-topics')] }));
    const other = b; // instance i2
    expect(hb(other, 'i2')).toBe('REBALANCE_IN_PROGRESS');
    const [r1, r2] = await Promise.all([restarted, c.join(joinRequest({ clientId: 'b', memberId: other.memberId, groupInstanceId: 'i2' }))]);
    expect(r1.generationId).toBe(a.generationId + 1);
    expect(r2!.generationId).toBe(r1.generationId);
  });

  it('LeaveGroup can name a static member by its instance id alone', async () => {
    const [a] = await staticPair();
    const left = c.leave('g', [{ memberId: '', groupInstanceId: 'i1' }, { memberId: 'stale', groupInstanceId: 'i2' }]);
    expect(left.members.map((m) => m.error)).toEqual([undefined, 'FENCED_INSTANCE_ID']);
    const [d] = await c.describeGroups(['g']);
    expect(d!.members.map((m) => m.groupInstanceId)).toEqual(['i2']);
    expect(hb(a, 'i1')).toBe('UNKNOWN_MEMBER_ID');
  });
});
