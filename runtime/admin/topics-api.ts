/** JSON REST for topics: /api/v1/topics[/NAME]. */
import { z } from 'zod';
import type { TopicManager } from '../core/topics.js';
import { RobustMQError } from '../errors.js';
import { STORAGE_KINDS } from '../storage/engine.js';

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

export function listTopics(topics: TopicManager): unknown {
  return { topics: topics.list().map((t) => topics.describe(t.name)) };
}

export async function createTopic(topics: TopicManager, body: unknown): Promise<unknown> {
  const spec = parseBody(createBody, body);
  const record = await topics.create({ ...spec, storage: spec.storage as never });
  return topics.describe(record.name);
}

export async function updateTopic(topics: TopicManager, name: string, body: unknown): Promise<unknown> {
  const patch = parseBody(updateBody, body);
  const { partitions, ...rest } = patch;
  if (partitions !== undefined && partitions !== topics.describe(name).partitions) {
    await topics.addPartitions(name, partitions);
  }
  if (Object.keys(rest).length > 0) await topics.update(name, rest);
  return topics.describe(name);
}
