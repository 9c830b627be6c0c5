/** Committed offsets (durable in the MetaStore) and the group admin views: list, describe, delete. */
import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../runtime/core/groups/coordinator.js';
import type { CommitOffset } from '../../runtime/core/groups/types.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { joinRequest, stableGroup, testCoordinator } from '../helpers/groups.js';
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

const at = (topic: string, partition: number, offset: number, metadata: string | null = null): CommitOffset => ({
  topic,
  partition,
  offset,
  leaderEpoch: -1,
  metadata,
});
const simple = (groupId: string, offsets: CommitOffset[]) =>
  c.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, offsets });

describe('OffsetCommit / OffsetFetch', () => {
  it('validates the generation and member of group-managed commits', async () => {
    const [a] = await stableGroup(c, 1);
    const req = { groupId: 'g', generationId: a!.generationId, memberId: a!.memberId, groupInstanceId: null, offsets: [at('t', 0, 5)] };
    expect(await c.commitOffsets(req)).toEqual([{ topic: 't', partition: 0 }]);
    expect((await c.commitOffsets({ ...req, generationId: 7 }))[0]!.error).toBe('ILLEGAL_GENERATION');
    expect((await c.commitOffsets({ ...req, memberId: 'ghost' }))[0]!.error).toBe('UNKNOWN_MEMBER_ID');
    // Only members may commit to a group that has members.
    expect((await simple('g', [at('t', 0, 9)]))[0]!.error).toBe('UNKNOWN_MEMBER_ID');
    // A generation of a group this coordinator does not know (e.g. from before a restart).
    expect((await c.commitOffsets({ ...req, groupId: 'unknown' }))[0]!.error).toBe('ILLEGAL_GENERATION');
    const fetched = await c.fetchOffsets('g', [{ topic: 't', partitions: [0] }]);
    expect(fetched.offsets).toEqual([{ topic: 't', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }]);
  });

  it('answers REBALANCE_IN_PROGRESS to a commit between JoinGroup and SyncGroup', async () => {
    const a = await c.join(joinRequest());
    const result = await c.commitOffsets({ groupId: 'g', generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, offsets: [at('t', 0, 1)] });
    expect(result[0]!.error).toBe('REBALANCE_IN_PROGRESS');
  });

  it('accepts simple commits (generation -1) and fetches all partitions when topics are null', async () => {
    await simple('s', [at('b', 1, 10, 'meta'), at('a', 10, 3), at('a', 2, 7)]);
    const all = await c.fetchOffsets('s', null);
    expect(all.offsets.map((o) => `${o.topic}-${o.partition}=${o.offset}`)).toEqual(['a-2=7', 'a-10=3', 'b-1=10']);
    expect(all.offsets[2]!.metadata).toBe('meta');
    const some = await c.fetchOffsets('s', [{ topic: 'a', partitions: [2, 5] }, { topic: 'zzz', partitions: [0] }]);
    expect(some.offsets.map((o) => o.offset)).toEqual([7, -1, -1]);
    expect((await c.fetchOffsets('nobody', null)).offsets).toEqual([]);
  });

  it('keeps the last offset when a commit names a partition twice', async () => {
    expect((await simple('s', [at('t', 0, 1), at('t', 0, 2)])).map((r) => r.error)).toEqual([undefined, undefined]);
    expect((await c.fetchOffsets('s', null)).offsets.map((o) => o.offset)).toEqual([2]);
  });

  it('rejects metadata larger than offset.metadata.max.bytes per partition', async () => {
    const result = await simple('s', [at('t', 0, 1, 'x'.repeat(5000)), at('t', 1, 1, 'ok')]);
    expect(result.map((r) => r.error)).toEqual(['OFFSET_METADATA_TOO_LARGE', undefined]);
    expect((await c.fetchOffsets('s', null)).offsets.map((o) => o.partition)).toEqual([1]);
  });

  it('keeps committed offsets across a restart of the coordinator and meta store', async () => {
    const [a] = await stableGroup(c, 1);
    await c.commitOffsets({ groupId: 'g', generationId: a!.generationId, memberId: a!.memberId, groupInstanceId: null, offsets: [at('t', 0, 42), at('t', 3, 9)] });
    await c.close();
    await meta.close();
    meta = await EmbeddedMetaStore.open(dir);
    c = testCoordinator(meta);
    const fetched = await c.fetchOffsets('g', [{ topic: 't', partitions: [0, 1, 3] }]);
    expect(fetched.offsets.map((o) => o.offset)).toEqual([42, -1, 9]);
    expect(await c.listGroups()).toEqual([{ groupId: 'g', protocolType: '', state: 'Empty' }]);
    expect((await c.describeGroups(['g']))[0]).toMatchObject({ state: 'Empty', members: [] });
    // The old member's generation is gone with the old coordinator.
    const stale = await c.commitOffsets({ groupId: 'g', generationId: a!.generationId, memberId: a!.memberId, groupInstanceId: null, offsets: [at('t', 0, 43)] });
    expect(stale[0]!.error).toBe('ILLEGAL_GENERATION');
  });
});

describe('ListGroups / DescribeGroups / DeleteGroups', () => {
  it('lists groups with their state and filters by state, case-insensitively', async () => {
    await stableGroup(c, 2, 'busy');
    await simple('idle', [at('t', 0, 1)]);
    const all = await c.listGroups();
    expect(all.sort((x, y) => x.groupId.localeCompare(y.groupId))).toEqual([
      { groupId: 'busy', protocolType: 'consumer', state: 'Stable' },
      { groupId: 'idle', protocolType: '', state: 'Empty' },
    ]);
    expect((await c.listGroups(['stable'])).map((g) => g.groupId)).toEqual(['busy']);
    expect((await c.listGroups(['Empty', 'Dead'])).map((g) => g.groupId)).toEqual(['idle']);
  });

  it('describes members, metadata and assignments of a stable group, and unknown groups as Dead', async () => {
    const joins = await stableGroup(c, 2);
    const [d, unknown] = await c.describeGroups(['g', 'nope']);
    expect(d).toMatchObject({ groupId: 'g', state: 'Stable', protocolType: 'consumer', protocolName: 'range' });
    expect(d!.members.map((m) => m.memberId).sort()).toEqual(joins.map((j) => j.memberId).sort());
    for (const m of d!.members) {
      expect(m.assignment.toString()).toBe(`a:${m.memberId}`);
      expect(m.metadata.toString()).toBe('topics');
      expect(m.clientHost).toBe('/127.0.0.1');
    }
    expect(unknown).toMatchObject({ groupId: 'nope', state: 'Dead', members: [] });
  });

  it('refuses to delete a group with members, deletes an empty one with its offsets', async () => {
    const [a] = await stableGroup(c, 1);
    await c.commitOffsets({ groupId: 'g', generationId: a!.generationId, memberId: a!.memberId, groupInstanceId: null, offsets: [at('t', 0, 3)] });
    await simple('idle', [at('t', 0, 1)]);
    expect(await c.deleteGroups(['g', 'idle', 'never'])).toEqual([
      { groupId: 'g', error: 'NON_EMPTY_GROUP' },
      { groupId: 'idle' },
      { groupId: 'never', error: 'GROUP_ID_NOT_FOUND' },
    ]);
    expect((await c.fetchOffsets('idle', null)).offsets).toEqual([]);
    c.leave('g', [{ memberId: a!.memberId, groupInstanceId: null }]);
    expect(await c.deleteGroups(['g'])).toEqual([{ groupId: 'g' }]);
    expect((await c.fetchOffsets('g', null)).offsets).toEqual([]);
    expect(await c.listGroups()).toEqual([]);
    expect(await meta.list('group-offsets')).toEqual([]);
  });
});
