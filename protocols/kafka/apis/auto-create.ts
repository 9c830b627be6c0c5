/**
 * Topic lookup with Kafka's auto-creation (auto.create.topics.enable): Metadata and Produce create a missing topic
 * with the node's default partition count when the node allows it and the request does not forbid it. Creating
 * needs the principal's `create` permission on the topic: without it the answer is TOPIC_AUTHORIZATION_FAILED.
 */
import { topicNameError } from '../../../runtime/core/topic-names.js';
import { isRobustMQError } from '../../../runtime/errors.js';
import type { TopicRecord } from '../../../runtime/meta/records.js';
import { mayOnTopic } from '../authz.js';
import { ErrorCode, kafkaErrorOf } from '../errors.js';
import type { KafkaRequestContext } from './types.js';

export type TopicLookup = { record: TopicRecord } | { error: ErrorCode };

export async function lookupTopic(ctx: KafkaRequestContext, name: string, allowCreate: boolean): Promise<TopicLookup> {
  const topics = ctx.broker.topics;
  const existing = topics.get(name);
  if (existing) return { record: existing };
  if (topicNameError(name)) return { error: ErrorCode.INVALID_TOPIC_EXCEPTION };
  if (!allowCreate || !ctx.broker.config.autoCreateTopics) return { error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (!mayOnTopic(ctx, 'create', name)) return { error: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
  try {
    const record = await topics.create({ name });
    ctx.log.info({ topic: name, client: ctx.clientId }, 'kafka topic auto-created');
    return { record };
  } catch (err) {
    const raced = topics.get(name);
    if (raced && isRobustMQError(err, 'ALREADY_EXISTS')) return { record: raced };
    ctx.log.warn({ err, topic: name }, 'kafka topic auto-creation failed');
    return { error: kafkaErrorOf(err) };
  }
}
