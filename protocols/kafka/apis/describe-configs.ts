/**
 * DescribeConfigs (key 32): topic configs (topic-configs.ts) and a read-only view of the broker settings that
 * Kafka clients and tools commonly ask for.
 */
import { mayDescribeTopic } from '../authz.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/describe-configs.js';
import { describeTopicConfigs, type ConfigEntry, type TopicConfigDefaults } from '../topic-configs.js';
import { defineApi, type KafkaRequestContext } from './types.js';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
const SOURCE_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

type Result = Response['results'][number];

export function configDefaults(ctx: KafkaRequestContext): TopicConfigDefaults {
  const d = ctx.broker.topics.defaults;
  return { retentionMs: d.retentionMs, retentionBytes: d.retentionBytes, maxMessageBytes: d.maxBatchBytes };
}

function brokerConfigs(ctx: KafkaRequestContext): ConfigEntry[] {
  const c = ctx.broker.config;
  const e = ctx.connection.endpoint;
  const entries: Array<[string, string]> = [
    ['advertised.listeners', `PLAINTEXT://${e.host}:${e.port}`],
    ['auto.create.topics.enable', String(c.autoCreateTopics)],
    ['broker.id', String(ctx.kafka.nodeId)],
    ['log.retention.bytes', String(c.retentionBytes)],
    ['log.retention.check.interval.ms', String(c.retentionCheckMs)],
    ['log.retention.ms', String(c.retentionMs)],
    ['message.max.bytes', String(c.maxMessageBytes)],
    ['num.partitions', String(c.defaultPartitions)],
    ['socket.request.max.bytes', String(c.kafkaMaxRequestBytes)],
  ];
  return entries.map(([name, value]) => ({ name, value, source: 'default', readOnly: true }));
}

function describe(ctx: KafkaRequestContext, r: Request['resources'][number], version: number): Result {
  const base = { resourceType: r.resourceType, resourceName: r.resourceName };
  let entries: ConfigEntry[];
  let brokerLevel = false;
  if (r.resourceType === RESOURCE_TOPIC) {
    if (!mayDescribeTopic(ctx, r.resourceName)) {
      return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'not authorized to describe this topic', configs: [] };
    }
    const record = ctx.broker.topics.get(r.resourceName);
    if (!record) {
      const errorMessage = `topic "${r.resourceName}" does not exist`;
      return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage, configs: [] };
    }
    entries = describeTopicConfigs(record, configDefaults(ctx));
  } else if (r.resourceType === RESOURCE_BROKER) {
    if (r.resourceName !== '' && r.resourceName !== String(ctx.kafka.nodeId)) {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown broker "${r.resourceName}"`, configs: [] };
    }
    entries = brokerConfigs(ctx);
    brokerLevel = true;
  } else {
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `resource type ${r.resourceType} is not supported`, configs: [] };
  }
  const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
  const configs = entries
    .filter((c) => keys === null || keys.has(c.name))
    .map((c) => {
      const source = c.source === 'topic' ? SOURCE_TOPIC : brokerLevel ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT;
      return {
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        isDefault: c.source === 'default',
        configSource: source,
        isSensitive: false,
        synonyms: version >= 1 ? [{ name: c.name, value: c.value, source }] : [],
        configType: 0,
        documentation: null,
      };
    });
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
}

export const describeConfigsApi = defineApi({
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  flexibleVersion: 4,
  request: Request,
  response: Response,
  handler: (req, ctx) => ({
    throttleTimeMs: 0,
    results: req.resources.map((r) => {
      const result = describe(ctx, r, ctx.apiVersion);
      if (!req.includeSynonyms) for (const c of result.configs) c.synonyms = [];
      return result;
    }),
  }),
});
