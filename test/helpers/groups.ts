/** Helpers for driving the protocol-neutral group coordinator in unit tests. */
import { GroupCoordinator, type GroupCoordinatorOptions } from '../../runtime/core/groups/coordinator.js';
import type { GroupProtocol, JoinRequest, JoinResult, SyncResult } from '../../runtime/core/groups/types.js';
import type { MetaStore } from '../../runtime/meta/store.js';

export const proto = (name = 'range', metadata = 'topics'): GroupProtocol => ({ name, metadata: Buffer.from(metadata) });

export function joinRequest(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 5000,
    rebalanceTimeoutMs: 1000,
    protocolType: 'consumer',
    protocols: [proto()],
    requireKnownMemberId: false,
    ...overrides,
  };
}

/** A coordinator with test-friendly timings (no initial delay, tiny minimum session timeout). */
export function testCoordinator(meta: MetaStore, options: GroupCoordinatorOptions = {}): GroupCoordinator {
  return new GroupCoordinator(meta, { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 10, ...options });
}

/** JoinGroup v4+ as clients do it: the first attempt returns MEMBER_ID_REQUIRED with the id to come back with. */
export async function joinWithIdRoundTrip(c: GroupCoordinator, overrides: Partial<JoinRequest> = {}): Promise<JoinResult> {
  const first = await c.join(joinRequest({ ...overrides, requireKnownMemberId: true }));
  if (first.error !== 'MEMBER_ID_REQUIRED') return first;
  return c.join(joinRequest({ ...overrides, memberId: first.memberId, requireKnownMemberId: true }));
}

/** Syncs every member of a completed join; the leader assigns each member its own id as the assignment bytes. */
export async function syncAll(c: GroupCoordinator, joins: JoinResult[], groupId = 'g'): Promise<SyncResult[]> {
  const leader = joins.find((j) => j.memberId === j.leaderId);
  if (!leader) throw new Error('no leader among the joins');
  const assignments = leader.members.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(`a:${m.memberId}`) }));
  return Promise.all(
    joins.map((j) =>
      c.sync({
        groupId,
        generationId: j.generationId,
        memberId: j.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: j === leader ? assignments : [],
      }),
    ),
  );
}

/** Forms a stable group of `n` dynamic members that joined together (their joins resolve in one generation). */
export async function stableGroup(c: GroupCoordinator, n: number, groupId = 'g'): Promise<JoinResult[]> {
  const first = await c.join(joinRequest({ groupId, clientId: 'm0' }));
  let joins = [first];
  for (let i = 1; i < n; i++) {
    const pending = [c.join(joinRequest({ groupId, clientId: `m${i}` }))];
    for (const j of joins) pending.push(c.join(joinRequest({ groupId, memberId: j.memberId, clientId: 'rejoin' })));
    joins = await Promise.all(pending);
  }
  await syncAll(c, joins, groupId);
  return joins;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
