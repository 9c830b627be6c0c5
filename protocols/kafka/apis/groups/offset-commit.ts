/**
 * OffsetCommit (key 8): commits to the MetaStore after the coordinator checked the committer's generation and
 * member id (generation -1 with no member id: a commit outside group management, v0 always). Partitions of unknown
 * topics get UNKNOWN_TOPIC_OR_PARTITION, as on a Kafka broker.
 */
import type { CommitOffset } from '../../../../runtime/core/groups/types.js';
import { mayOnGroup, mayOnTopic } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi, type KafkaRequestContext } from '../types.js';
import { Request, Response } from './messages/offset-commit.js';
import { groupsOf, kafkaCode } from './shared.js';

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function exists(ctx: KafkaRequestContext, topic: string, partition: number): boolean {
  const record = ctx.broker.topics.get(topic);
  return record !== undefined && partition >= 0 && partition < record.partitions;
}

/** A response with `error` for every partition of the request. */
function allFailed(req: Request, error: number): Response {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: error })),
    })),
  };
}

export const offsetCommitApi = defineApi({
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 8,
  flexibleVersion: 8,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (!mayOnGroup(ctx, 'consume', req.groupId)) return allFailed(req, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const errors = new Map<string, number>();
    const offsets: CommitOffset[] = [];
    for (const t of req.topics) {
      const allowed = mayOnTopic(ctx, 'consume', t.name);
      for (const p of t.partitions) {
        if (!allowed) {
          errors.set(key(t.name, p.partitionIndex), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          continue;
        }
        if (!exists(ctx, t.name, p.partitionIndex)) {
          errors.set(key(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          continue;
        }
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata,
        });
      }
    }
    const results = await groupsOf(ctx).commitOffsets({
      groupId: req.groupId,
      generationId: ctx.apiVersion >= 1 ? req.generationIdOrMemberEpoch : -1,
      memberId: ctx.apiVersion >= 1 ? req.memberId : '',
      groupInstanceId: req.groupInstanceId,
      offsets,
    });
    for (const r of results) errors.set(key(r.topic, r.partition), kafkaCode(r.error));
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: errors.get(key(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
        })),
      })),
    };
  },
  // The MetaStore write failed: a retriable error that also sends the client back to FindCoordinator.
  errorResponse: (req) => allFailed(req, ErrorCode.COORDINATOR_NOT_AVAILABLE),
});
