/** DeleteRecords (key 21): moves a partition's log start offset forward; offset -1 means the high watermark. */
import { mayOnTopic } from '../authz.js';
import { ErrorCode, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/delete-records.js';
import { defineApi } from './types.js';

const HIGH_WATERMARK = -1;

export const deleteRecordsApi = defineApi({
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleVersion: 2,
  request: Request,
  response: Response,
  handler: async (req, ctx) => ({
    throttleTimeMs: 0,
    topics: await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            if (!mayOnTopic(ctx, 'delete', t.name)) {
              return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
            }
            try {
              const log = ctx.broker.topics.partition(t.name, p.partitionIndex);
              const target = p.offset === HIGH_WATERMARK ? log.highWatermark() : p.offset;
              if (target < 0 || target > log.highWatermark()) {
                return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
              }
              const lowWatermark = await log.deleteRecordsBefore(target);
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
            } catch (err) {
              return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: kafkaErrorOf(err) };
            }
          }),
        ),
      })),
    ),
  }),
});
