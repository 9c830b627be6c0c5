/** What starts a rebalance (joins, leaves, silent members) and how the coordinator ends one. */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GroupCoordinator } from '../../runtime/core/groups/coordinator.js';
import type { JoinResult } from '../../runtime/core/groups/types.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { joinRequest, sleep, stableGroup, syncAll, testCoordinator, until } from '../helpers/groups.js';
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

const hb = (j: JoinResult) => c.heartbeat({ groupId: 'g', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null });
const state = async () => (await c.describeGroups(['g']))[0]!.state;

describe('rebalance triggers', () => {
  it('a new member makes heartbeats answer REBALANCE_IN_PROGRESS until everyone rejoined', async () => {
    const [a] = await stableGroup(c, 1);
    expect(hb(a!)).toBeUndefined();
    const newcomer = c.join(joinRequest({ clientId: 'b' }));
    expect(hb(a!)).toBe('REBALANCE_IN_PROGRESS');
    expect(await state()).toBe('PreparingRebalance');
    const rejoined = await c.join(joinRequest({ memberId: a!.memberId }));
    const b = await newcomer;
    expect(rejoined.generationId).toBe(a!.generationId + 1);
    expect(b.generationId).toBe(rejoined.generationId);
    await syncAll(c, [rejoined, b]);
    expect(hb(rejoined)).toBeUndefined();
    expect(hb(a!)).toBe('ILLEGAL_GENERATION');
  });

  it('a member that leaves triggers a rebalance that the others complete alone', async () => {
    const [a, b] = await stableGroup(c, 2);
    const left = c.leave('g', [{ memberId: b!.memberId, groupInstanceId: null }]);
    expect(left.members).toEqual([{ memberId: b!.memberId, groupInstanceId: null }]);
    expect(hb(a!)).toBe('REBALANCE_IN_PROGRESS');
    const rejoined = await c.join(joinRequest({ memberId: a!.memberId }));
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a!.memberId]);
    expect(rejoined.leaderId).toBe(a!.memberId);
    expect(hb(b!)).toBe('UNKNOWN_MEMBER_ID');
  });

  it('LeaveGroup v3+ removes several members at once and reports unknown ones per member', async () => {
    const [a, b, d] = await stableGroup(c, 3);
    const left = c.leave('g', [
      { memberId: a!.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
      { memberId: b!.memberId, groupInstanceId: null },
    ]);
    expect(left.members.map((m) => m.error)).toEqual([undefined, 'UNKNOWN_MEMBER_ID', undefined]);
    const rejoined = await c.join(joinRequest({ memberId: d!.memberId }));
    expect(rejoined.members.map((m) => m.memberId)).toEqual([d!.memberId]);
    expect(c.leave('missing', [{ memberId: 'x', groupInstanceId: null }]).members[0]!.error).toBe('UNKNOWN_MEMBER_ID');
  });

  it('the last member leaving empties the group, whose generations keep counting', async () => {
    const [a] = await stableGroup(c, 1);
    c.leave('g', [{ memberId: a!.memberId, groupInstanceId: null }]);
    await until(async () => (await state()) === 'Empty');
    const next = await c.join(joinRequest({ clientId: 'b' }));
    expect(next.generationId).toBe(a!.generationId + 2);
  });

  it('a member that stops heartbeating is removed after its session timeout', async () => {
    const a = await c.join(joinRequest({ clientId: 'a', sessionTimeoutMs: 300 }));
    const [b, ra] = await Promise.all([
      c.join(joinRequest({ clientId: 'b', sessionTimeoutMs: 150 })),
      c.join(joinRequest({ memberId: a.memberId, sessionTimeoutMs: 300 })),
    ]);
    await syncAll(c, [ra!, b!]);
    const started = Date.now();
    let seen: string | undefined;
    while (Date.now() - started < 1000 && seen === undefined) {
      seen = hb(ra!);
      await sleep(40);
    }
    expect(seen).toBe('REBALANCE_IN_PROGRESS');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const rejoined = await c.join(joinRequest({ memberId: a.memberId, sessionTimeoutMs: 300 }));
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(hb(b!)).toBe('UNKNOWN_MEMBER_ID');
  });

  it('members that do not rejoin within the rebalance timeout are dropped from the next generation', async () => {
    const [a, b] = await stableGroup(c, 2);
    const started = Date.now();
    const [d, ra] = await Promise.all([
      c.join(joinRequest({ clientId: 'd', rebalanceTimeoutMs: 200 })),
      c.join(joinRequest({ memberId: a!.memberId, rebalanceTimeoutMs: 200 })),
    ]);
    // b never rejoined: the join phase ran until the (largest) rebalance timeout of the members, 1000 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(d!.generationId).toBe(ra!.generationId);
    const leader = [d!, ra!].find((j) => j.memberId === j.leaderId)!;
    expect(leader.members.map((m) => m.memberId).sort()).toEqual([d!.memberId, a!.memberId].sort());
    expect(hb(b!)).toBe('UNKNOWN_MEMBER_ID');
  });

  it('a leader that never sends SyncGroup is removed after the rebalance timeout and the followers rejoin', async () => {
    const a = await c.join(joinRequest({ clientId: 'a', rebalanceTimeoutMs: 200 }));
    const [b, ra] = await Promise.all([
      c.join(joinRequest({ clientId: 'b', rebalanceTimeoutMs: 200 })),
      c.join(joinRequest({ memberId: a.memberId, rebalanceTimeoutMs: 200 })),
    ]);
    const follower = b!.memberId === b!.leaderId ? ra! : b!;
    const parked = await c.sync({ groupId: 'g', generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(parked.error).toBe('REBALANCE_IN_PROGRESS');
    const rejoined = await c.join(joinRequest({ memberId: follower.memberId, rebalanceTimeoutMs: 200 }));
    expect(rejoined.members.map((m) => m.memberId)).toEqual([follower.memberId]);
  });

  it('close() clears every timer: join phase, session, sync deadline and pending member ids', async () => {
    vi.useFakeTimers();
    try {
      const fc = testCoordinator(meta, { initialRebalanceDelayMs: 100 });
      const joining = fc.join(joinRequest({ clientId: 'a' }));
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      expect((await joining).generationId).toBe(1);
      expect((await fc.join(joinRequest({ clientId: 'b', requireKnownMemberId: true }))).error).toBe('MEMBER_ID_REQUIRED');
      expect(vi.getTimerCount()).toBe(3);
      await fc.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() answers parked joins with COORDINATOR_NOT_AVAILABLE', async () => {
    const [a] = await stableGroup(c, 1);
    const parked = c.join(joinRequest({ clientId: 'b' }));
    await c.close();
    expect((await parked).error).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(hb(a!)).toBe('COORDINATOR_NOT_AVAILABLE');
  });
});
