import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let base: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

beforeAll(async () => {
  node = await startTestNode();
  base = `http://127.0.0.1:${node.ports.admin}`;
});
afterAll(async () => node?.destroy());

describe('admin API over HTTP', () => {
  it('answers /healthz 200 once started', async () => {
    const r = await call('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics with process and per-protocol series', async () => {
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.text).toContain('process_cpu_user_seconds_total');
    expect(r.text).toContain('robustmq_connections{protocol="mqtt"}');
    expect(r.text).toContain('robustmq_messages_received_total{protocol="kafka"}');
    expect(r.text).toContain('robustmq_bytes_sent_total');
    expect(r.text).toContain('robustmq_storage_append_seconds');
  });

  it('creates, lists, describes, updates and deletes topics', async () => {
    const created = await call('POST', '/api/v1/topics', { name: 'orders', partitions: 3, retentionMs: 60_000 });
    expect(created.status).toBe(201);
    expect(created.json.partitions).toBe(3);
    expect(created.json.partitionInfo).toEqual([0, 1, 2].map((p) => ({ partition: p, logStartOffset: 0, highWatermark: 0, sizeBytes: 0 })));

    const list = await call('GET', '/api/v1/topics');
    expect(list.json.topics.map((t: { name: string }) => t.name)).toContain('orders');

    const described = await call('GET', '/api/v1/topics/orders');
    expect(described.status).toBe(200);
    expect(described.json).toMatchObject({ name: 'orders', partitions: 3, retentionMs: 60_000, storage: 'segment' });

    const grown = await call('PATCH', '/api/v1/topics/orders', { partitions: 5, mqttBindings: ['orders/#'] });
    expect(grown.status).toBe(200);
    expect(grown.json.partitions).toBe(5);
    expect(grown.json.partitionInfo).toHaveLength(5);
    expect(grown.json.mqttBindings).toEqual(['orders/#']);

    const deleted = await call('DELETE', '/api/v1/topics/orders');
    expect(deleted.status).toBe(204);
    expect((await call('GET', '/api/v1/topics/orders')).status).toBe(404);
  });

  it('answers errors as JSON with stable codes and the right status', async () => {
    await call('POST', '/api/v1/topics', { name: 'dup' });
    const dup = await call('POST', '/api/v1/topics', { name: 'dup' });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe('ALREADY_EXISTS');

    const badName = await call('POST', '/api/v1/topics', { name: 'bad name!' });
    expect(badName.status).toBe(400);
    expect(badName.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(badName.json.error.message).toMatch(/topic name/);

    const badPartitions = await call('POST', '/api/v1/topics', { name: 'p0', partitions: 0 });
    expect(badPartitions.status).toBe(400);
    const badEngine = await call('POST', '/api/v1/topics', { name: 'e1', storage: 'tape' });
    expect(badEngine.status).toBe(400);
    expect(badEngine.json.error.message).toMatch(/^storage:/);
    const unknownField = await call('POST', '/api/v1/topics', { name: 'u1', colour: 'red' });
    expect(unknownField.status).toBe(400);
    const badFilter = await call('POST', '/api/v1/topics', { name: 'f1', mqttBindings: ['a/#/b'] });
    expect(badFilter.status).toBe(400);
    expect(badFilter.json.error.message).toMatch(/invalid MQTT binding/);
    const badJson = await call('POST', '/api/v1/topics', '{"name":');
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.message).toMatch(/not valid JSON/);
    const shrink = await call('PATCH', '/api/v1/topics/dup', { partitions: 0 });
    expect(shrink.status).toBe(400);

    expect((await call('GET', '/api/v1/topics/nope')).json.error.code).toBe('NOT_FOUND');
    expect((await call('DELETE', '/api/v1/topics/nope')).status).toBe(404);
    expect((await call('GET', '/api/v1/nothing')).status).toBe(404);
    expect((await call('PUT', '/api/v1/topics')).status).toBe(405);
  });

  it('lists clients and reports cluster status', async () => {
    const clients = await call('GET', '/api/v1/clients');
    expect(clients.status).toBe(200);
    expect(Array.isArray(clients.json.clients)).toBe(true);
    const cluster = await call('GET', '/api/v1/cluster');
    expect(cluster.json).toMatchObject({ mode: 'standalone', meta: 'embedded' });
    expect(cluster.json.nodes).toHaveLength(1);
  });

  it('keeps topics across a restart on the same data dir', async () => {
    await call('POST', '/api/v1/topics', { name: 'durable', partitions: 4 });
    await node.close();
    node = await startTestNode({ dataDir: node.dataDir });
    base = `http://127.0.0.1:${node.ports.admin}`;
    const r = await call('GET', '/api/v1/topics/durable');
    expect(r.status).toBe(200);
    expect(r.json.partitions).toBe(4);
  });
});
