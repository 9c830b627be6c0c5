/** CreatePartitions (key 37): grows a topic's partition count (partitions can only be added, KIP-195). */
import { MAX_PARTITIONS } from '../../../runtime/core/topics.js';
import { mayOnTopic } from '../authz.js';
import { ErrorCode, errorMessageOf, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/create-partitions.js';
import { defineApi } from './types.js';

export const createPartitionsApi = defineApi({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleVersion: 2,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const topics = ctx.broker.topics;
    const results: Response['results'] = [];
    for (const t of req.topics) {
      const current = topics.get(t.name);
      const fail = (errorCode: ErrorCode, errorMessage: string): void => void results.push({ name: t.name, errorCode, errorMessage });
      if (!mayOnTopic(ctx, 'alter', t.name)) {
        fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'not authorized to alter this topic');
      } else if (!current) {
        fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${t.name}" does not exist`);
      } else if (t.count <= current.partitions || t.count > MAX_PARTITIONS) {
        const limits = `the new count must be larger and at most ${MAX_PARTITIONS}`;
        fail(ErrorCode.INVALID_PARTITIONS, `topic has ${current.partitions} partitions; ${limits}, got ${t.count}`);
      } else if (t.assignments !== null && t.assignments.length !== t.count - current.partitions) {
        const added = t.count - current.partitions;
        fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${t.assignments.length} assignments for ${added} new partitions`);
      } else if (req.validateOnly) {
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } else {
        try {
          await topics.addPartitions(t.name, t.count);
          results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
        } catch (err) {
          fail(kafkaErrorOf(err, ErrorCode.INVALID_PARTITIONS), errorMessageOf(err));
        }
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
