/**
 * Metadata (key 3): this broker as the only broker, leader and controller of every partition (leader epoch 0).
 * v0 lists all topics for an empty topic array; v1+ does so for a null array. Missing topics are auto-created
 * when allowed (allow_auto_topic_creation, v4+). Topics the principal may do nothing with are left out of "all
 * topics" answers and get TOPIC_AUTHORIZATION_FAILED when named.
 */
import { mayDescribeTopic } from '../authz.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/metadata.js';
import { topicByIdIn, topicIdOf } from '../topic-ids.js';
import { ZERO_UUID } from '../codec/schema.js';
import { lookupTopic } from './auto-create.js';
import { defineApi, type KafkaRequestContext } from './types.js';

type TopicMetadata = Response['topics'][number];

/** Kafka's "authorized operations not requested" sentinel. */
const NO_OPERATIONS = -2147483648;

function unknown(name: string | null, error: ErrorCode, topicId = ZERO_UUID): TopicMetadata {
  return { errorCode: error, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: NO_OPERATIONS };
}

async function topicMetadata(ctx: KafkaRequestContext, req: Request): Promise<TopicMetadata[]> {
  const topics = ctx.broker.topics;
  const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
  const visible = all ? topics.list().filter((t) => mayDescribeTopic(ctx, t.name)) : [];
  const wanted = all ? visible.map((t) => ({ name: t.name as string | null, topicId: ZERO_UUID })) : req.topics!;
  const out: TopicMetadata[] = [];
  for (const want of wanted) {
    let name = want.name;
    if (name === null || name === '') {
      const byId = want.topicId !== ZERO_UUID ? topicByIdIn(topics.list(), want.topicId) : undefined;
      if (!byId) {
        out.push(unknown(null, ErrorCode.UNKNOWN_TOPIC_ID, want.topicId));
        continue;
      }
      name = byId.name;
    }
    if (!mayDescribeTopic(ctx, name)) {
      out.push(unknown(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
      continue;
    }
    const found = await lookupTopic(ctx, name, !all && req.allowAutoTopicCreation);
    if ('error' in found) {
      out.push(unknown(name, found.error));
      continue;
    }
    const nodeId = ctx.kafka.nodeId;
    out.push({
      errorCode: ErrorCode.NONE,
      name,
      topicId: topicIdOf(found.record),
      isInternal: false,
      partitions: Array.from({ length: found.record.partitions }, (_, p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p,
        leaderId: nodeId,
        leaderEpoch: 0,
        replicaNodes: [nodeId],
        isrNodes: [nodeId],
        offlineReplicas: [],
      })),
      topicAuthorizedOperations: NO_OPERATIONS,
    });
  }
  return out;
}

export const metadataApi = defineApi({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  flexibleVersion: 9,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const self = ctx.connection.endpoint;
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: self.nodeId, host: self.host, port: self.port, rack: self.rack }],
      clusterId: ctx.kafka.clusterId,
      controllerId: self.nodeId,
      topics: await topicMetadata(ctx, req),
      clusterAuthorizedOperations: NO_OPERATIONS,
    };
  },
});
