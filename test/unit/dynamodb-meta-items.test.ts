import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import type { TransactOp } from '../../runtime/meta/store.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';
import { rejectsWith } from '../conformance/meta-suite-helpers.js';

let dynamo: Dynalite;
let store: DynamoMetaStore;
let prefix = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());
beforeEach(async () => {
  store = await DynamoMetaStore.open({
    endpoint: dynamo.endpoint,
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tablePrefix: `items${++prefix}`,
  });
});
afterEach(async () => store.close());

const rawItem = async (ns: string, key: string) =>
  (await dynamo.client().send(new GetItemCommand({ TableName: store.tableName, Key: { ns: { S: ns }, key: { S: key } }, ConsistentRead: true }))).Item;

describe('DynamoDB meta item layout', () => {
  it('stores JSON text with a version, and a TTL in ms (expiresAt) and in seconds (ttl) for leases', async () => {
    const lease = await store.put('brokers', 'b1', { host: 'h' }, { ttlMs: 10_000 });
    const item = await rawItem('brokers', 'b1');
    expect(item).toMatchObject({
      ns: { S: 'brokers' },
      key: { S: 'b1' },
      value: { S: '{"host":"h"}' },
      version: { N: '1' },
      expiresAt: { N: String(lease.expiresAt) },
      ttl: { N: String(Math.ceil(lease.expiresAt! / 1000)) },
    });
    expect(item?.wid?.S).toMatch(/^[0-9a-f-]{36}$/);
    await store.put('brokers', 'b1', { host: 'h2' });
    const rewritten = await rawItem('brokers', 'b1');
    expect(rewritten).toMatchObject({ version: { N: '2' }, value: { S: '{"host":"h2"}' } });
    expect(rewritten).not.toHaveProperty('expiresAt');
    expect(rewritten).not.toHaveProperty('ttl');
  });

  it('treats items DynamoDB has not yet deleted after their expiry as absent', async () => {
    const past = Date.now() - 1000;
    const item = {
      ns: { S: 'brokers' },
      value: { S: '"zombie"' },
      version: { N: '7' },
      expiresAt: { N: String(past) },
      ttl: { N: String(Math.ceil(past / 1000)) },
    };
    const client = dynamo.client();
    for (const key of ['a', 'b', 'c']) await client.send(new PutItemCommand({ TableName: store.tableName, Item: { ...item, key: { S: key } } }));
    expect(await store.get('brokers', 'a')).toBeUndefined();
    expect(await store.list('brokers')).toEqual([]);
    expect(await store.put('brokers', 'a', 'new', { expectedVersion: 0 })).toMatchObject({ version: 1 });
    expect(await store.put('brokers', 'b', 'new')).toMatchObject({ version: 1, value: 'new' });
    await rejectsWith(store.delete('brokers', 'c', { expectedVersion: 7 }), 'CONFLICT');
    expect(await store.delete('brokers', 'c')).toBe(false);
    expect(await rawItem('brokers', 'c')).toBeUndefined();
    await store.put('brokers', 'd', 'd1');
    await client.send(new PutItemCommand({ TableName: store.tableName, Item: { ...item, key: { S: 'c' } } }));
    await store.transact([
      { op: 'put', ns: 'brokers', key: 'c', value: 'tx' },
      { op: 'delete', ns: 'brokers', key: 'd' },
    ]);
    expect(await store.get('brokers', 'c')).toMatchObject({ version: 1, value: 'tx' });
    expect(await store.get('brokers', 'd')).toBeUndefined();
  });

  it('keeps values up to the 400 KB item limit and rejects larger ones clearly, writing nothing', async () => {
    const payload = 'x'.repeat(390 * 1024);
    expect((await store.put('retained', 'big', { payload })).version).toBe(1);
    expect((await store.get<{ payload: string }>('retained', 'big'))?.value.payload).toHaveLength(payload.length);
    const err = await rejectsWith(store.put('retained', 'huge', { payload: 'y'.repeat(400 * 1024) }), 'INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/retained\/huge is too large: .* the limit is 409600/);
    await rejectsWith(store.transact([{ op: 'put', ns: 'retained', key: 'huge', value: 'z'.repeat(401 * 1024) }]), 'INVALID_ARGUMENT');
    expect(await store.get('retained', 'huge')).toBeUndefined();
  });

  it('lists namespaces larger than one 1 MB query page', async () => {
    const payload = 'p'.repeat(300 * 1024);
    for (let i = 0; i < 6; i++) await store.put('retained', `t/${i}`, payload);
    await store.put('retained', 'u/0', 1);
    const queriesBefore = dynamo.requests.get('Query') ?? 0;
    const listed = await store.list<string>('retained', 't/');
    expect((dynamo.requests.get('Query') ?? 0) - queriesBefore).toBeGreaterThanOrEqual(2);
    expect(listed.map((e) => e.key)).toEqual(['t/0', 't/1', 't/2', 't/3', 't/4', 't/5']);
    expect(listed.every((e) => e.value.length === payload.length)).toBe(true);
  });

  it('sorts lists in UTF-16 order like the embedded store, not in DynamoDB byte order', async () => {
    for (const key of ['\u{1F600}', '\uFF21', 'a']) await store.put('topics', key, key);
    expect((await store.list('topics')).map((e) => e.key)).toEqual(['a', '\u{1F600}', '\uFF21']);
  });

  it("rejects keys DynamoDB cannot store and transactions over DynamoDB's 100-item limit", async () => {
    await rejectsWith(store.put('topics', 'k'.repeat(1025), 1), 'INVALID_ARGUMENT');
    await rejectsWith(store.get('topics', '\uD800'), 'INVALID_ARGUMENT');
    const ops = (n: number): TransactOp[] => Array.from({ length: n }, (_, i) => ({ op: 'put', ns: 'groups', key: `g${i}`, value: i }));
    const err = await rejectsWith(store.transact(ops(101)), 'INVALID_ARGUMENT');
    expect((err as Error).message).toContain('at most 100');
    expect(await store.list('groups')).toEqual([]);
    await store.transact(ops(100));
    expect(await store.list('groups')).toHaveLength(100);
  });

  it('reports a deleted table as STORAGE_UNAVAILABLE naming it, not retriable', async () => {
    const { DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
    await dynamo.client().send(new DeleteTableCommand({ TableName: store.tableName }));
    const err = await rejectsWith(store.get('topics', 'x'), 'STORAGE_UNAVAILABLE');
    expect((err as Error).message).toContain(`"${store.tableName}" does not exist`);
    expect(isRobustMQError(err) && err.retriable).toBe(false);
  });
});
