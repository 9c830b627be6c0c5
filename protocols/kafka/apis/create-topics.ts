/**
 * CreateTopics (key 19). Replication is the storage engine's business here, so any replication factor is accepted
 * and the topic reports factor 1; explicit replica assignments only fix the partition count. Topic configs go
 * through topic-configs.ts (unsupported values fail with INVALID_CONFIG).
 */
import { MAX_PARTITIONS } from '../../../runtime/core/topics.js';
import type { TopicRecord } from '../../../runtime/meta/records.js';
import { topicNameError } from '../../../runtime/core/topic-names.js';
import { mayOnTopic } from '../authz.js';
import { ErrorCode, errorMessageOf, kafkaErrorOf } from '../errors.js';
import { Request, Response } from '../messages/create-topics.js';
import { topicIdOf } from '../topic-ids.js';
import { describeTopicConfigs, topicUpdateFor } from '../topic-configs.js';
import { configDefaults } from './describe-configs.js';
import { defineApi, type KafkaRequestContext } from './types.js';

type TopicResult = Response['topics'][number];
type CreatableTopic = Request['topics'][number];

function failure(name: string, errorCode: ErrorCode, errorMessage: string): TopicResult {
  return { name, topicId: '0'.repeat(32), errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null };
}

async function createOne(ctx: KafkaRequestContext, t: CreatableTopic, validateOnly: boolean): Promise<TopicResult> {
  const topics = ctx.broker.topics;
  const nameProblem = topicNameError(t.name);
  if (nameProblem) return failure(t.name, ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  if (!mayOnTopic(ctx, 'create', t.name)) return failure(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'not authorized to create this topic');
  if (topics.get(t.name)) return failure(t.name, ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${t.name}" already exists`);
  const requested = t.numPartitions === -1 ? topics.defaults.partitions : t.numPartitions;
  const partitions = t.assignments.length > 0 ? t.assignments.length : requested;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    return failure(t.name, ErrorCode.INVALID_PARTITIONS, `number of partitions must be from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
  if (t.replicationFactor === 0 || t.replicationFactor < -1) {
    return failure(t.name, ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor must be -1 or positive, got ${t.replicationFactor}`);
  }
  const defaults = configDefaults(ctx);
  const draft: TopicRecord = {
    name: t.name,
    partitions,
    storage: topics.defaults.storage,
    retentionMs: defaults.retentionMs,
    retentionBytes: defaults.retentionBytes,
    cleanupPolicy: 'delete',
    mqttBindings: [],
    createdAt: Date.now(),
    configs: {},
  };
  let update;
  try {
    update = topicUpdateFor(draft, t.configs, defaults);
  } catch (err) {
    return failure(t.name, ErrorCode.INVALID_CONFIG, errorMessageOf(err));
  }
  try {
    const record = validateOnly
      ? { ...draft, ...update }
      : await topics.create({ ...update, name: t.name, partitions });
    return {
      name: t.name,
      topicId: topicIdOf(record),
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      numPartitions: record.partitions,
      replicationFactor: 1,
      configs: describeTopicConfigs(record, defaults).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        configSource: c.source === 'topic' ? 1 : 5,
        isSensitive: false,
      })),
    };
  } catch (err) {
    return failure(t.name, kafkaErrorOf(err), errorMessageOf(err));
  }
}

export const createTopicsApi = defineApi({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleVersion: 5,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const results: TopicResult[] = [];
    for (const t of req.topics) results.push(await createOne(ctx, t, req.validateOnly));
    return { throttleTimeMs: 0, topics: results };
  },
});
