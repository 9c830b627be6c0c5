/**
 * DynamoDB faults between the store and dynalite, injected by a proxy: 500s, throttling, connection resets,
 * responses lost after the write applied, and requests that never answer.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { DynamoMetaStore, type DynamoMetaOptions } from '../../runtime/meta/dynamodb/store.js';
import { rejectsWith } from '../conformance/meta-suite-helpers.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';

type Fault = 'pass' | '500' | 'throttle' | 'reset' | 'lose-response' | 'hang';

class FaultProxy {
  /** Decides the fate of each request, given its operation and how many of that operation came before. */
  plan: (op: string, index: number) => Fault = () => 'pass';
  readonly seen: Array<{ op: string; fault: Fault }> = [];
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;
  endpoint = '';

  constructor(private readonly target: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests of `op` seen since the last reset(). */
  requests(op: string): Fault[] {
    return this.seen.filter((s) => s.op === op).map((s) => s.fault);
  }

  reset(plan: (op: string, index: number) => Fault): void {
    this.plan = plan;
    this.seen.length = 0;
    this.counts.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const index = this.counts.get(op) ?? 0;
    this.counts.set(op, index + 1);
    const fault = this.plan(op, index);
    this.seen.push({ op, fault });
    if (fault === 'hang') return;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === '500' || fault === 'throttle') {
      const type = fault === '500' ? 'InternalServerError' : 'ProvisionedThroughputExceededException';
      res.writeHead(fault === '500' ? 500 : 400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'injected' }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
    }
    const upstream = await fetch(this.target, { method: 'POST', headers, body: Buffer.concat(chunks).toString() });
    const body = await upstream.text();
    if (fault === 'lose-response') {
      req.socket.destroy(); // applied by DynamoDB, but the caller never hears so
      return;
    }
    res.writeHead(upstream.status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(body);
  }
}

let dynamo: Dynalite;
let proxy: FaultProxy;
let store: DynamoMetaStore;
let prefix = 0;

const open = (options: Partial<DynamoMetaOptions> = {}) =>
  DynamoMetaStore.open({
    endpoint: proxy.endpoint,
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tablePrefix: `faults${++prefix}`,
    maxAttempts: 5,
    ...options,
  });

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());
beforeEach(async () => {
  proxy = new FaultProxy(dynamo.endpoint);
  await proxy.start();
  store = await open();
});
afterEach(async () => {
  await store.close();
  await proxy.close();
});

/** The first attempt of each call fails with `fault`; retries pass. */
const firstAttemptFails = (fault: Fault, ops: string[]) => {
  let failNext = true;
  return (op: string) => {
    if (!ops.includes(op)) return 'pass';
    failNext = !failNext;
    return failNext ? 'pass' : fault;
  };
};

describe('DynamoDB meta store under faults', () => {
  it('retries 500s, throttling and connection resets transparently', async () => {
    const kinds: Fault[] = ['500', 'reset', 'throttle'];
    let n = 0;
    proxy.reset(() => (n++ % 2 === 0 ? kinds[(n >> 1) % 3] : 'pass'));
    expect((await store.put('topics', 'a', 1)).version).toBe(1);
    expect((await store.put('topics', 'a', 2, { expectedVersion: 1 })).version).toBe(2);
    await store.put('topics', 'b', 'x', { ttlMs: 60_000 });
    expect(await store.get('topics', 'a')).toMatchObject({ value: 2, version: 2 });
    expect((await store.list('topics')).map((e) => e.key)).toEqual(['a', 'b']);
    await store.transact([
      { op: 'check', ns: 'topics', key: 'a', expectedVersion: 2 },
      { op: 'put', ns: 'partitions', key: 'p', value: 'tx' },
      { op: 'delete', ns: 'topics', key: 'b' },
    ]);
    expect(await store.delete('topics', 'a', { expectedVersion: 2 })).toBe(true);
    expect(await store.list('topics')).toEqual([]);
    expect(await store.get('partitions', 'p')).toMatchObject({ value: 'tx', version: 1 });
    const injected = proxy.seen.filter((s) => s.fault !== 'pass').map((s) => s.fault);
    expect(new Set(injected)).toEqual(new Set(kinds));
    expect(injected.length).toBeGreaterThanOrEqual(8);
  });

  it('never retries a failed condition, and never turns one into a success after retried faults', async () => {
    await store.put('partitions', 'leader', 'epoch1');
    await store.put('partitions', 'leader', 'epoch2');
    proxy.reset(() => 'pass');
    await rejectsWith(store.put('partitions', 'leader', 'zombie', { expectedVersion: 1 }), 'CONFLICT');
    expect(proxy.requests('PutItem')).toEqual(['pass']);

    proxy.reset(firstAttemptFails('500', ['PutItem', 'DeleteItem', 'TransactWriteItems']));
    await rejectsWith(store.put('partitions', 'leader', 'zombie', { expectedVersion: 1 }), 'CONFLICT');
    expect(proxy.requests('PutItem')).toEqual(['500', 'pass']);
    await rejectsWith(store.delete('partitions', 'leader', { expectedVersion: 1 }), 'CONFLICT');
    const fenced = store.transact([
      { op: 'check', ns: 'partitions', key: 'leader', expectedVersion: 1 },
      { op: 'put', ns: 'group-offsets', key: 'o', value: 5 },
    ]);
    await rejectsWith(fenced, 'CONFLICT');
    expect(proxy.requests('TransactWriteItems')).toEqual(['500', 'pass']);
    expect(await store.get('partitions', 'leader')).toMatchObject({ value: 'epoch2', version: 2 });
    expect(await store.get('group-offsets', 'o')).toBeUndefined();
  });

  it('reports a compare-and-set whose response was lost as done, applied once', async () => {
    await store.put('brokers', 'lease', 'v1');
    proxy.reset((op, i) => (op === 'PutItem' && i === 0 ? 'lose-response' : 'pass'));
    const written = await store.put('brokers', 'lease', 'v2', { expectedVersion: 1 });
    expect(written).toMatchObject({ value: 'v2', version: 2 });
    expect(proxy.requests('PutItem')).toEqual(['lose-response', 'pass']);
    expect(await store.get('brokers', 'lease')).toMatchObject({ value: 'v2', version: 2 });

    proxy.reset((op, i) => (op === 'PutItem' && i === 0 ? 'lose-response' : 'pass'));
    expect(await store.put('brokers', 'new', 'n', { expectedVersion: 0 })).toMatchObject({ version: 1 });
    expect(proxy.requests('PutItem')).toHaveLength(2);
  });

  it('applies a transaction whose response was lost exactly once (ClientRequestToken)', async () => {
    await store.put('partitions', 'p', 1);
    proxy.reset((op, i) => (op === 'TransactWriteItems' && i === 0 ? 'lose-response' : 'pass'));
    await store.transact([
      { op: 'put', ns: 'partitions', key: 'p', value: 2, expectedVersion: 1 },
      { op: 'put', ns: 'partitions', key: 'q', value: 1 },
    ]);
    expect(proxy.requests('TransactWriteItems')).toEqual(['lose-response', 'pass']);
    expect(await store.get('partitions', 'p')).toMatchObject({ value: 2, version: 2 });
    expect(await store.get('partitions', 'q')).toMatchObject({ value: 1, version: 1 });
  });

  it('times out a request that never answers and retries it', async () => {
    await store.close();
    store = await open({ requestTimeoutMs: 1_000 });
    await store.put('sessions', 's', { clean: false });
    proxy.reset((op, i) => (op === 'GetItem' && i === 0 ? 'hang' : 'pass'));
    const started = Date.now();
    expect(await store.get('sessions', 's')).toMatchObject({ value: { clean: false } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    // On a loaded machine a retry may time out too, so there may be more than one; only the first was held.
    const [first, ...retries] = proxy.requests('GetItem');
    expect(first).toBe('hang');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries.filter((fault) => fault !== 'pass')).toEqual([]);
  });

  it('gives up after maxAttempts with a retriable STORAGE_UNAVAILABLE', async () => {
    await store.close();
    store = await open({ maxAttempts: 3 });
    proxy.reset(() => '500');
    const err = await rejectsWith(store.put('topics', 't', 1), 'STORAGE_UNAVAILABLE');
    expect(isRobustMQError(err) && err.retriable).toBe(true);
    expect((err as Error).message).toContain('after 3 attempts');
    expect(proxy.requests('UpdateItem')).toEqual(['500', '500', '500']);
    proxy.reset(() => 'pass');
    expect(await store.get('topics', 't')).toBeUndefined();
  });
});
