/**
 * OffsetFetch (key 9): committed offsets, -1 where none. v2+ accepts null topics (every committed partition) and
 * carries a group-level error; v8 fetches for several groups at once (KIP-709). v0 (offsets kept in ZooKeeper) is
 * not served; kafkajs starts at v1.
 */
import type { FetchedOffset } from '../../../../runtime/core/groups/types.js';
import { mayOnGroup, mayOnTopic } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi, type KafkaRequestContext } from '../types.js';
import { Request, Response } from './messages/offset-fetch.js';
import { groupsOf, kafkaCode } from './shared.js';

type WantedTopics = Array<{ name: string; partitionIndexes: number[] }> | null;

interface GroupOffsets {
  errorCode: number;
  topics: Array<{ name: string; partitions: Array<FetchedPartition> }>;
}

interface FetchedPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

async function fetchGroup(ctx: KafkaRequestContext, groupId: string, topics: WantedTopics): Promise<GroupOffsets> {
  if (!mayOnGroup(ctx, 'consume', groupId)) {
    const code = ErrorCode.GROUP_AUTHORIZATION_FAILED;
    return { errorCode: code, topics: (topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => failed(p, code)) })) };
  }
  const allowed = (topic: string): boolean => mayOnTopic(ctx, 'consume', topic);
  const permitted = topics?.filter((t) => allowed(t.name)) ?? null;
  const wanted = permitted === null ? null : permitted.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
  const result = await groupsOf(ctx).fetchOffsets(groupId, wanted);
  const byTopic = new Map<string, FetchedPartition[]>();
  for (const t of topics ?? []) {
    const code = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    byTopic.set(t.name, allowed(t.name) ? [] : t.partitionIndexes.map((p) => failed(p, code)));
  }
  const errorCode = kafkaCode(result.error);
  for (const o of result.offsets) {
    if (!allowed(o.topic)) continue;
    let list = byTopic.get(o.topic);
    if (!list) byTopic.set(o.topic, (list = []));
    list.push(partitionOf(o));
  }
  if (errorCode !== ErrorCode.NONE) {
    // Versions without a group-level error learn it from every requested partition.
    for (const t of topics ?? []) byTopic.set(t.name, t.partitionIndexes.map((p) => failed(p, errorCode)));
  }
  return { errorCode, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
}

function partitionOf(o: FetchedOffset): FetchedPartition {
  return { partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: 0 };
}

function failed(partitionIndex: number, errorCode: number): FetchedPartition {
  return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode };
}

export const offsetFetchApi = defineApi({
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 8,
  flexibleVersion: 6,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (ctx.apiVersion >= 8) {
      const groups = [];
      for (const g of req.groups) groups.push({ groupId: g.groupId, ...(await fetchGroup(ctx, g.groupId, g.topics)) });
      return { throttleTimeMs: 0, topics: [], errorCode: 0, groups };
    }
    const result = await fetchGroup(ctx, req.groupId, ctx.apiVersion >= 2 ? req.topics : (req.topics ?? []));
    return { throttleTimeMs: 0, topics: result.topics, errorCode: result.errorCode, groups: [] };
  },
  errorResponse: (req, _error, ctx) => {
    const code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const topicsOf = (topics: WantedTopics) =>
      (topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => failed(p, code)) }));
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: 0,
        groups: req.groups.map((g) => ({ groupId: g.groupId, topics: topicsOf(g.topics), errorCode: code })),
      };
    }
    return { throttleTimeMs: 0, topics: topicsOf(req.topics), errorCode: code, groups: [] };
  },
});
