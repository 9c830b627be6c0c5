/**
 * Stateless brokers: nodes on DynamoDB metadata keep nothing of their own. A topic created through one node is
 * served by a node started later on an empty data dir with the same table, also after the first one is gone.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, TEST_CREDENTIALS, type Dynalite } from '../helpers/dynalite.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const savedEnv = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
let dynamo: Dynalite;
const nodes: TestNode[] = [];

beforeAll(async () => {
  // The node takes credentials from the SDK's default provider chain, as in production: here, the env vars.
  process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
  dynamo = await startDynalite();
});
afterAll(async () => {
  for (const node of nodes) await node.destroy();
  await dynamo?.close();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

async function startNode(): Promise<TestNode> {
  const node = await startTestNode({
    meta: 'dynamodb',
    dynamodbEndpoint: dynamo.endpoint,
    dynamodbRegion: 'us-east-1',
    dynamodbTablePrefix: 'e2e-cluster',
  });
  nodes.push(node);
  return node;
}

async function call(node: TestNode, method: string, route: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${node.ports.admin}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
}

describe('nodes with --meta dynamodb', () => {
  it('serve a topic created on another node from a new empty data dir, also after that node is gone', async () => {
    const first = await startNode();
    expect(first.context.meta.kind).toBe('dynamodb');
    const created = await call(first, 'POST', '/api/v1/topics', { name: 'orders', partitions: 3, retentionMs: 60_000 });
    expect(created.status).toBe(201);

    const second = await startNode();
    expect(second.dataDir).not.toBe(first.dataDir);
    expect(existsSync(path.join(second.dataDir, 'meta'))).toBe(false);
    const seen = await call(second, 'GET', '/api/v1/topics/orders');
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ name: 'orders', partitions: 3, retentionMs: 60_000 });

    await first.destroy();
    nodes.splice(nodes.indexOf(first), 1);
    const third = await startNode();
    const listed = await call(third, 'GET', '/api/v1/topics');
    expect(listed.json.topics.map((t: { name: string }) => t.name)).toContain('orders');
    const deleted = await call(third, 'DELETE', '/api/v1/topics/orders');
    expect(deleted.status).toBeLessThan(300);
    expect((await second.context.meta.get('topics', 'orders'))).toBeUndefined();
  });
});
