/**
 * ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3, KIP-734) or the first offset whose timestamp
 * is at or after a given time (offsets-for-times). No match answers offset -1 / timestamp -1, as Kafka does.
 * v0 answers in old_style_offsets.
 */
import { mayOnTopic } from '../authz.js';
import { ErrorCode, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/list-offsets.js';
import { LEADER_EPOCH } from './produce-partition.js';
import { defineApi, type KafkaRequestContext } from './types.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

type PartitionResponse = Response['topics'][number]['partitions'][number];

type PartitionRequest = Request['topics'][number]['partitions'][number];

async function lookup(ctx: KafkaRequestContext, topic: string, p: PartitionRequest): Promise<PartitionResponse> {
  const answer = (errorCode: ErrorCode, offset = -1, timestamp = -1): PartitionResponse => ({
    partitionIndex: p.partitionIndex,
    errorCode,
    oldStyleOffsets: offset >= 0 ? [offset] : [],
    timestamp,
    offset,
    leaderEpoch: errorCode === ErrorCode.NONE ? LEADER_EPOCH : -1,
  });
  if (!mayOnTopic(ctx, 'consume', topic)) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  try {
    const log = ctx.broker.topics.partition(topic, p.partitionIndex);
    if (p.currentLeaderEpoch > LEADER_EPOCH) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
    switch (p.timestamp) {
      case LATEST:
        return answer(ErrorCode.NONE, log.highWatermark());
      case EARLIEST:
        return answer(ErrorCode.NONE, log.logStartOffset());
      case MAX_TIMESTAMP: {
        const max = await log.maxTimestamp();
        return max ? answer(ErrorCode.NONE, max.offset, max.timestamp) : answer(ErrorCode.NONE);
      }
      default: {
        if (p.timestamp < 0) return answer(ErrorCode.INVALID_REQUEST);
        const found = await log.offsetForTime(p.timestamp);
        return found ? answer(ErrorCode.NONE, found.offset, found.timestamp) : answer(ErrorCode.NONE);
      }
    }
  } catch (err) {
    return answer(kafkaErrorOf(err));
  }
}

export const listOffsetsApi = defineApi({
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 7,
  flexibleVersion: 6,
  request: Request,
  response: Response,
  handler: async (req, ctx) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      req.topics.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitions.map((p) => lookup(ctx, t.name, p))) })),
    ),
  }),
});
