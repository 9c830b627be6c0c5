/**
 * AlterConfigs (key 33) and IncrementalAlterConfigs (key 44, KIP-339) for topics: retention and cleanup settings
 * reach TopicManager.update, so they take effect at once. AlterConfigs replaces the whole set (unlisted keys return
 * to their defaults); IncrementalAlterConfigs applies SET / DELETE / APPEND / SUBTRACT per key. Broker configs
 * are static (command line / config file) and cannot be altered here.
 */
import { mayOnCluster, mayOnTopic } from '../authz.js';
import { ErrorCode, errorMessageOf } from '../errors.js';
import * as Legacy from '../messages/alter-configs.js';
import * as Incremental from '../messages/incremental-alter-configs.js';
import { describeTopicConfigs, resetTopicConfigs, topicUpdateFor } from '../topic-configs.js';
import { configDefaults, RESOURCE_BROKER, RESOURCE_TOPIC } from './describe-configs.js';
import { defineApi, type KafkaRequestContext } from './types.js';

type Change = { name: string; value: string | null };
type Result = Legacy.Response['responses'][number];

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

async function alterTopic(
  ctx: KafkaRequestContext,
  resource: { resourceType: number; resourceName: string },
  changes: (current: Record<string, string>) => Change[],
  replaceAll: boolean,
  validateOnly: boolean,
): Promise<Result> {
  const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  if (resource.resourceType === RESOURCE_BROKER && !mayOnCluster(ctx, 'alter')) {
    return { ...base, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'not authorized to alter the cluster' };
  }
  if (resource.resourceType === RESOURCE_TOPIC && !mayOnTopic(ctx, 'alter', resource.resourceName)) {
    return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'not authorized to alter this topic' };
  }
  if (resource.resourceType === RESOURCE_BROKER) {
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'broker configs are static on this broker' };
  }
  if (resource.resourceType !== RESOURCE_TOPIC) {
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `resource type ${resource.resourceType} is not supported` };
  }
  const topics = ctx.broker.topics;
  const record = topics.get(resource.resourceName);
  if (!record) {
    return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic "${resource.resourceName}" does not exist` };
  }
  const defaults = configDefaults(ctx);
  try {
    const start = replaceAll ? { ...record, ...resetTopicConfigs(defaults) } : record;
    const current = Object.fromEntries(describeTopicConfigs(start, defaults).map((c) => [c.name, c.value]));
    const update = topicUpdateFor(start, changes(current), defaults);
    if (!validateOnly) {
      await topics.update(record.name, { ...(replaceAll ? resetTopicConfigs(defaults) : {}), ...update });
      ctx.log.info({ topic: record.name, client: ctx.clientId }, 'kafka topic configs altered');
    }
    return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (err) {
    return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: errorMessageOf(err) };
  }
}

function listOp(current: string | undefined, value: string | null, op: number): string {
  const items = (current ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const given = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const next = op === OP_APPEND ? [...new Set([...items, ...given])] : items.filter((i) => !given.includes(i));
  return next.join(',');
}

export const alterConfigsApi = defineApi({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleVersion: 2,
  request: Legacy.Request,
  response: Legacy.Response,
  handler: async (req, ctx) => {
    const responses: Result[] = [];
    for (const r of req.resources) responses.push(await alterTopic(ctx, r, () => r.configs, true, req.validateOnly));
    return { throttleTimeMs: 0, responses };
  },
});

export const incrementalAlterConfigsApi = defineApi({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleVersion: 1,
  request: Incremental.Request,
  response: Incremental.Response,
  handler: async (req, ctx) => {
    const responses: Result[] = [];
    for (const r of req.resources) {
      const bad = r.configs.find((c) => ![OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT].includes(c.configOperation));
      if (bad) {
        const errorMessage = `unknown config operation ${bad.configOperation}`;
        responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
        continue;
      }
      const changes = (current: Record<string, string>): Change[] =>
        r.configs.map((c) => {
          if (c.configOperation === OP_SET) return { name: c.name, value: c.value };
          if (c.configOperation === OP_DELETE) return { name: c.name, value: null };
          return { name: c.name, value: listOp(current[c.name], c.value, c.configOperation) };
        });
      responses.push(await alterTopic(ctx, r, changes, false, req.validateOnly));
    }
    return { throttleTimeMs: 0, responses };
  },
});
