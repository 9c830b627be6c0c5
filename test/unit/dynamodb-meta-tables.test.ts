import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { DynamoMetaStore, type DynamoMetaOptions } from '../../runtime/meta/dynamodb/store.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';

let dynamo: Dynalite;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());

const open = (options: Partial<DynamoMetaOptions>) =>
  DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, ...options });

async function openError(options: Partial<DynamoMetaOptions>): Promise<unknown> {
  return open(options).then(
    async (store) => {
      await store.close();
      throw new Error('expected open to fail');
    },
    (err: unknown) => err,
  );
}

describe('DynamoDB meta table management', () => {
  it('creates the table once, on-demand, with TTL, even when several brokers start together', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => open({ tablePrefix: 'together' })));
    await stores[0].put('topics', 't', 1);
    expect(await stores[2].get('topics', 't')).toMatchObject({ value: 1, version: 1 });
    await Promise.all(stores.map((s) => s.close()));

    const client = dynamo.client();
    const table = (await client.send(new DescribeTableCommand({ TableName: 'together-meta' }))).Table!;
    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([
      { AttributeName: 'ns', KeyType: 'HASH' },
      { AttributeName: 'key', KeyType: 'RANGE' },
    ]);
    const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: 'together-meta' }))).TimeToLiveDescription;
    expect(ttl).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    const tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables.filter((t) => t.startsWith('together'))).toEqual(['together-meta']);

    const again = await open({ tablePrefix: 'together' });
    expect(await again.get('topics', 't')).toMatchObject({ value: 1 });
    await again.close();
  });

  it('with createTables off, names the missing table and creates nothing', async () => {
    const err = await openError({ tablePrefix: 'absent', createTables: false });
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('"absent-meta" does not exist');
    expect((err as Error).message).toContain('--no-create-tables');
    const tables = (await dynamo.client().send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables).not.toContain('absent-meta');
  });

  it('with createTables off, uses an existing table without touching its settings', async () => {
    const client = dynamo.client();
    await client.send(
      new CreateTableCommand({
        TableName: 'managed-meta',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'ns', AttributeType: 'S' },
          { AttributeName: 'key', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'ns', KeyType: 'HASH' },
          { AttributeName: 'key', KeyType: 'RANGE' },
        ],
      }),
    );
    const store = await open({ tablePrefix: 'managed', createTables: false });
    expect((await store.put('cluster', 'id', 'x')).version).toBe(1);
    await store.close();
    const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: 'managed-meta' }))).TimeToLiveDescription;
    expect(ttl?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('refuses a table with another key schema, naming it', async () => {
    await dynamo.client().send(
      new CreateTableCommand({
        TableName: 'wrong-meta',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const err = await openError({ tablePrefix: 'wrong' });
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('"wrong-meta" has key schema [id:HASH]');
  });

  it('rejects a table prefix DynamoDB cannot use', async () => {
    const err = await openError({ tablePrefix: 'no spaces/allowed' });
    expect(isRobustMQError(err, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('reports an unreachable endpoint as STORAGE_UNAVAILABLE after retrying', async () => {
    const err = await openError({ endpoint: 'http://127.0.0.1:1', maxAttempts: 2, tablePrefix: 'nowhere' });
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(/after 2 attempts/);
  });
});
