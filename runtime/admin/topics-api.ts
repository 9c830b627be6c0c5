/**
 * JSON REST for topics: /api/v1/topics[/NAME]. The request bodies are parsed here for the admin API and for the
 * CLI's direct mode (`robustmq topic ... --meta dynamodb`, runtime/cli/direct-topics.ts) alike.
 */
import { z } from 'zod';
import type { CreateTopicSpec, TopicManager, TopicUpdate } from '../core/topics.js';
import { RobustMQError } from '../errors.js';
import { STORAGE_KINDS, type StorageKind } from '../storage/engine.js';

const createBody = z.strictObject({
  name: z.string(),
  partitions: z.number().int().optional(),
  storage: z.enum(STORAGE_KINDS as [string, ...string[]]).optional(),
  retentionMs: z.number().int().optional(),
  retentionBytes: z.number().int().optional(),
  flush: z.string().optional(),
  mqttBindings: z.array(z.string()).optional(),
});

const updateBody = z.strictObject({
  partitions: z.number().int().optional(),
  retentionMs: z.number().int().optional(),
  retentionBytes: z.number().int().optional(),
  flush: z.string().optional(),
  mqttBindings: z.array(z.string()).optional(),
});

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new RobustMQError('INVALID_ARGUMENT', `${where}${issue.message}`);
  }
  return parsed.data;
}

/** A PATCH body: the new partition count (grow only) and the fields to replace. */
export type TopicPatch = TopicUpdate & { partitions?: number };

/** The body of POST /api/v1/topics as a spec (validated further by topicRecordOf, runtime/core/topic-spec.ts). */
export function parseTopicCreate(body: unknown): CreateTopicSpec {
  const spec = parseBody(createBody, body);
  return { ...spec, storage: spec.storage as StorageKind | undefined };
}

export function parseTopicUpdate(body: unknown): TopicPatch {
  return parseBody(updateBody, body);
}

export function listTopics(topics: TopicManager): unknown {
  return { topics: topics.list().map((t) => topics.describe(t.name)) };
}

export async function createTopic(topics: TopicManager, body: unknown): Promise<unknown> {
  const record = await topics.create(parseTopicCreate(body));
  return topics.describe(record.name);
}

export async function updateTopic(topics: TopicManager, name: string, body: unknown): Promise<unknown> {
  const { partitions, ...rest } = parseTopicUpdate(body);
  if (partitions !== undefined && partitions !== topics.describe(name).partitions) {
    await topics.addPartitions(name, partitions);
  }
  if (Object.keys(rest).length > 0) await topics.update(name, rest);
  return topics.describe(name);
}
