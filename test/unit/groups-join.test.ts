/** The classic group protocol's join and sync phases, driven through the protocol-neutral coordinator. */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../runtime/core/groups/coordinator.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { joinRequest, joinWithIdRoundTrip, proto, sleep, stableGroup, syncAll, testCoordinator } from '../helpers/groups.js';
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

describe('JoinGroup', () => {
  it('hands out a member id with MEMBER_ID_REQUIRED (KIP-394) and admits the member when it comes back', async () => {
    const first = await c.join(joinRequest({ clientId: 'app', requireKnownMemberId: true }));
    expect(first.error).toBe('MEMBER_ID_REQUIRED');
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    const second = await c.join(joinRequest({ clientId: 'app', memberId: first.memberId, requireKnownMemberId: true }));
    expect(second.error).toBeUndefined();
    expect(second).toMatchObject({ memberId: first.memberId, leaderId: first.memberId, generationId: 1, protocolName: 'range' });
    expect(second.members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it('rejects an unknown member id and an out-of-range session timeout', async () => {
    expect((await c.join(joinRequest({ memberId: 'nobody' }))).error).toBe('UNKNOWN_MEMBER_ID');
    expect((await c.join(joinRequest({ sessionTimeoutMs: 5 }))).error).toBe('INVALID_SESSION_TIMEOUT');
    expect((await c.join(joinRequest({ groupId: '' }))).error).toBe('INVALID_GROUP_ID');
  });

  it('answers INCONSISTENT_GROUP_PROTOCOL when protocol type or names do not overlap', async () => {
    await stableGroup(c, 1);
    expect((await c.join(joinRequest({ protocols: [proto('roundrobin')] }))).error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect((await c.join(joinRequest({ protocolType: 'connect' }))).error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect((await c.join(joinRequest({ protocols: [] }))).error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    const [d] = await c.describeGroups(['g']);
    expect(d!.members).toHaveLength(1);
    expect(d!.state).toBe('Stable');
  });

  it('selects the protocol most members prefer among those all support', async () => {
    const a = await c.join(joinRequest({ protocols: [proto('range'), proto('roundrobin')] }));
    // New members first: a rejoin with unchanged protocols before any change would just be answered again.
    const joins = await Promise.all([
      c.join(joinRequest({ protocols: [proto('roundrobin'), proto('range')] })),
      c.join(joinRequest({ protocols: [proto('sticky'), proto('roundrobin'), proto('range')] })),
      c.join(joinRequest({ memberId: a.memberId, protocols: [proto('range'), proto('roundrobin')] })),
    ]);
    expect(joins.every((j) => j.protocolName === 'roundrobin')).toBe(true);
    expect(joins.every((j) => j.generationId === 2)).toBe(true);
  });

  it("breaks a tie in the leader's order of preference and gives the leader every member's metadata", async () => {
    const a = await c.join(joinRequest({ protocols: [proto('range', 'A'), proto('roundrobin', 'A')] }));
    const [rb, ra] = await Promise.all([
      c.join(joinRequest({ protocols: [proto('roundrobin', 'B'), proto('range', 'B')] })),
      c.join(joinRequest({ memberId: a.memberId, protocols: [proto('range', 'A'), proto('roundrobin', 'A')] })),
    ]);
    expect(ra!.protocolName).toBe('range');
    expect(ra!.leaderId).toBe(a.memberId);
    expect(ra!.members.map((m) => m.metadata.toString()).sort()).toEqual(['A', 'B']);
    expect(rb!.members).toEqual([]);
    expect(rb!.leaderId).toBe(a.memberId);
  });

  it('waits group.initial.rebalance.delay for more members before the first generation (KIP-134)', async () => {
    const delayed = testCoordinator(meta, { initialRebalanceDelayMs: 150 });
    try {
      const started = Date.now();
      const first = delayed.join(joinRequest({ clientId: 'a' }));
      await sleep(50);
      const second = delayed.join(joinRequest({ clientId: 'b' }));
      const [ra, rb] = await Promise.all([first, second]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(ra.generationId).toBe(1);
      expect(rb.generationId).toBe(1);
      expect(new Set([ra.leaderId, rb.leaderId]).size).toBe(1);
    } finally {
      await delayed.close();
    }
  });

  it('answers a repeated JoinGroup of a stable follower with the current generation, without a rebalance', async () => {
    const [a, b] = await stableGroup(c, 2);
    const follower = a!.memberId === a!.leaderId ? b! : a!;
    const again = await c.join(joinRequest({ memberId: follower.memberId }));
    expect(again.generationId).toBe(follower.generationId);
    expect((await c.describeGroups(['g']))[0]!.state).toBe('Stable');
  });
});

describe('SyncGroup', () => {
  it("parks followers until the leader's assignment arrives and hands each member its own", async () => {
    const a = await joinWithIdRoundTrip(c, { clientId: 'a' });
    const b = await c.join(joinRequest({ clientId: 'b', requireKnownMemberId: true }));
    expect(b.error).toBe('MEMBER_ID_REQUIRED');
    const [rb, ra] = await Promise.all([
      c.join(joinRequest({ clientId: 'b', memberId: b.memberId, requireKnownMemberId: true })),
      c.join(joinRequest({ memberId: a.memberId, requireKnownMemberId: true })),
    ]);
    const follower = ra!.leaderId === ra!.memberId ? rb! : ra!;
    const leader = follower === ra ? rb! : ra!;
    let followerDone = false;
    const followerSync = c
      .sync({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] })
      .then((r) => {
        followerDone = true;
        return r;
      });
    await sleep(30);
    expect(followerDone).toBe(false);
    const [leaderSync] = await syncAll(c, [leader]);
    expect(leaderSync!.assignment.toString()).toBe(`a:${leader.memberId}`);
    expect((await followerSync).assignment.toString()).toBe(`a:${follower.memberId}`);
    expect((await c.describeGroups(['g']))[0]!.state).toBe('Stable');
  });

  it('rejects a wrong generation, an unknown member and a mismatched protocol', async () => {
    const [a] = await stableGroup(c, 1);
    const base = { groupId: 'g', generationId: a!.generationId, memberId: a!.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] };
    expect((await c.sync({ ...base, generationId: 99 })).error).toBe('ILLEGAL_GENERATION');
    expect((await c.sync({ ...base, memberId: 'ghost' })).error).toBe('UNKNOWN_MEMBER_ID');
    expect((await c.sync({ ...base, groupId: 'other' })).error).toBe('UNKNOWN_MEMBER_ID');
    expect((await c.sync({ ...base, protocolName: 'roundrobin' })).error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    const ok = await c.sync(base);
    expect(ok.error).toBeUndefined();
    expect(ok.assignment.toString()).toBe(`a:${a!.memberId}`);
  });

  it('answers REBALANCE_IN_PROGRESS to a parked follower when a new member arrives before the leader syncs', async () => {
    const a = await c.join(joinRequest({ clientId: 'a' }));
    const [rb, ra] = await Promise.all([c.join(joinRequest({ clientId: 'b' })), c.join(joinRequest({ memberId: a.memberId }))]);
    const follower = ra!.leaderId === ra!.memberId ? rb! : ra!;
    const parked = c.sync({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    void c.join(joinRequest({ clientId: 'c' }));
    expect((await parked).error).toBe('REBALANCE_IN_PROGRESS');
    const again = await c.sync({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(again.error).toBe('REBALANCE_IN_PROGRESS');
  });
});
