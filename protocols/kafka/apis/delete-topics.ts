/** DeleteTopics (key 20): by name (v0-5), by name or topic id (v6, KIP-516). */
import { mayOnTopic } from '../authz.js';
import { ErrorCode, errorMessageOf, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/delete-topics.js';
import { topicByIdIn, topicIdOf } from '../topic-ids.js';
import { ZERO_UUID } from '../codec/schema.js';
import { defineApi, type KafkaRequestContext } from './types.js';

type Result = Response['responses'][number];

async function deleteOne(ctx: KafkaRequestContext, name: string | null, topicId: string): Promise<Result> {
  const topics = ctx.broker.topics;
  if (name && !mayOnTopic(ctx, 'delete', name)) {
    return { name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'not authorized to delete this topic' };
  }
  const record = name ? topics.get(name) : topicId !== ZERO_UUID ? topicByIdIn(topics.list(), topicId) : undefined;
  if (!record) {
    const errorCode = name ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
    return { name, topicId, errorCode, errorMessage: 'topic does not exist' };
  }
  // By id: a topic the principal may not delete is not revealed to exist (Kafka answers the same).
  if (!name && !mayOnTopic(ctx, 'delete', record.name)) {
    return { name, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'topic does not exist' };
  }
  try {
    await topics.delete(record.name);
    ctx.log.info({ topic: record.name, client: ctx.clientId }, 'kafka topic deleted');
    return { name: record.name, topicId: topicIdOf(record), errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (err) {
    return { name: record.name, topicId: topicIdOf(record), errorCode: kafkaErrorOf(err), errorMessage: errorMessageOf(err) };
  }
}

export const deleteTopicsApi = defineApi({
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const wanted = ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: Result[] = [];
    for (const t of wanted) responses.push(await deleteOne(ctx, t.name, t.topicId));
    return { throttleTimeMs: 0, responses };
  },
});
