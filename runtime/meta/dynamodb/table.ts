/**
 * The meta table: created when missing (idempotently, so brokers starting together do not trip over each other),
 * on-demand billing, TTL on the `ttl` attribute. With table creation off the table must already exist with the
 * same key schema; nothing about it is changed.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { toMetaError } from './errors.js';

export interface EnsureTableOptions {
  readonly create: boolean;
  /** How long to wait for a table being created to become ACTIVE. @default 120000 */
  readonly activeTimeoutMs?: number;
  readonly log?: Logger;
}

const KEY_SCHEMA = [
  { AttributeName: 'ns', KeyType: 'HASH' as const },
  { AttributeName: 'key', KeyType: 'RANGE' as const },
];

export async function ensureTable(client: DynamoDBClient, table: string, options: EnsureTableOptions): Promise<void> {
  let description = await describe(client, table);
  if (description === undefined) {
    if (!options.create) {
      throw new RobustMQError(
        'STORAGE_UNAVAILABLE',
        `DynamoDB table "${table}" does not exist and table creation is off (--no-create-tables): create it ` +
          `with partition key "ns" (S) and sort key "key" (S), or let the broker create it`,
        { retriable: false },
      );
    }
    await create(client, table, options.log);
  }
  description = await waitActive(client, table, options.activeTimeoutMs ?? 120_000);
  checkKeySchema(table, description);
  if (options.create) await enableTtl(client, table, options.log);
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw toMetaError(err, `describe table ${table}`, table);
  }
}

async function create(client: DynamoDBClient, table: string, log?: Logger): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'ns', AttributeType: 'S' },
          { AttributeName: 'key', AttributeType: 'S' },
        ],
        KeySchema: KEY_SCHEMA,
      }),
    );
    log?.info({ table }, 'created DynamoDB meta table');
  } catch (err) {
    // Another broker created it first: fine, it is the same table.
    if ((err as { name?: string }).name === 'ResourceInUseException') return;
    throw toMetaError(err, `create table ${table}`, table);
  }
}

async function waitActive(client: DynamoDBClient, table: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 2000)) {
    const description = await describe(client, table);
    if (description?.TableStatus === 'ACTIVE' || description?.TableStatus === 'UPDATING') return description;
    if (Date.now() + delay > deadline) {
      throw new RobustMQError('STORAGE_UNAVAILABLE', `DynamoDB table "${table}" did not become ACTIVE within ${timeoutMs} ms (status ${description?.TableStatus ?? 'missing'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function checkKeySchema(table: string, description: TableDescription): void {
  const schema = (description.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  if (schema !== 'ns:HASH,key:RANGE') {
    throw new RobustMQError(
      'STORAGE_UNAVAILABLE',
      `DynamoDB table "${table}" has key schema [${schema}]; the meta store needs partition key "ns" and sort key "key"`,
      { retriable: false },
    );
  }
}

/** TTL only saves storage (reads filter expired entries themselves), so failing to turn it on is a warning. */
async function enableTtl(client: DynamoDBClient, table: string, log?: Logger): Promise<void> {
  try {
    const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
    if (ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') {
      if (ttl.AttributeName !== 'ttl') log?.warn({ table, attribute: ttl.AttributeName }, 'DynamoDB TTL is on another attribute than "ttl"');
      return;
    }
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } }),
    );
    log?.info({ table }, 'enabled DynamoDB TTL on attribute "ttl"');
  } catch (err) {
    // "TimeToLive is already enabled": another broker got there between our describe and update.
    if ((err as { name?: string }).name === 'ValidationException') return;
    log?.warn({ err, table }, 'could not enable DynamoDB TTL; expired leases will stay until overwritten');
  }
}
