/**
 * OffsetForLeaderEpoch (key 23, KIP-101/KIP-320): every partition has had one leader epoch (0) since creation, so
 * epoch 0 ends at the high watermark; a later epoch is unknown to us and an earlier one does not exist.
 */
import { mayOnTopic } from '../authz.js';
import { ErrorCode, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/offset-for-leader-epoch.js';
import { LEADER_EPOCH } from './produce-partition.js';
import { defineApi } from './types.js';

export const offsetForLeaderEpochApi = defineApi({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const answer = (errorCode: ErrorCode, leaderEpoch = -1, endOffset = -1) => ({
          errorCode,
          partition: p.partition,
          leaderEpoch,
          endOffset,
        });
        if (!mayOnTopic(ctx, 'consume', t.topic)) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        try {
          const log = ctx.broker.topics.partition(t.topic, p.partition);
          if (p.currentLeaderEpoch > LEADER_EPOCH) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
          if (p.leaderEpoch > LEADER_EPOCH) return answer(ErrorCode.NONE);
          return answer(ErrorCode.NONE, LEADER_EPOCH, log.highWatermark());
        } catch (err) {
          return answer(kafkaErrorOf(err));
        }
      }),
    })),
  }),
});
