/**
 * Single-item reads and writes. Every read is strongly consistent. A conditional write that failed after the SDK
 * had retried it may have applied on an earlier attempt whose response was lost; the item's write id tells, so
 * such a write is reported as done only when it certainly applied, and as CONFLICT otherwise.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { RobustMQError } from '../../errors.js';
import type { Namespace } from '../store.js';
import { bumpUpdate, conditionParams, expected as expectedCond, liveOrAbsent, type Expr } from './conditions.js';
import { attemptsOf, isConditionalFailure, toMetaError } from './errors.js';
import { decodeItem, encodeItem, isLive, keyOf, type Item, type Stored } from './item.js';

export interface Table {
  readonly client: DynamoDBClient;
  readonly name: string;
}

type Outcome<T> = { ok: true; out: T } | { ok: false; attempts: number; current?: Item };

/** Sends a conditional request; a failed condition is an outcome, anything else a RobustMQError. */
async function conditional<T>(table: Table, what: string, send: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, out: await send() };
  } catch (err) {
    if (!isConditionalFailure(err)) throw toMetaError(err, what, table.name);
    return { ok: false, attempts: attemptsOf(err), current: err.Item };
  }
}

/** The item as stored, expired or not. */
export async function getStored(table: Table, ns: Namespace, key: string): Promise<Stored | undefined> {
  try {
    const out = await table.client.send(new GetItemCommand({ TableName: table.name, Key: keyOf(ns, key), ConsistentRead: true }));
    return out.Item === undefined ? undefined : decodeItem(out.Item);
  } catch (err) {
    throw toMetaError(err, `get ${ns}/${key}`, table.name);
  }
}

/** Every item of `ns` whose key starts with `prefix`, expired or not, in DynamoDB (UTF-8) key order. */
export async function queryStored(table: Table, ns: Namespace, prefix: string): Promise<Stored[]> {
  const out: Stored[] = [];
  let start: Item | undefined;
  do {
    try {
      const page = await table.client.send(
        new QueryCommand({
          TableName: table.name,
          ConsistentRead: true,
          KeyConditionExpression: prefix === '' ? '#ns = :ns' : '#ns = :ns AND begins_with(#k, :p)',
          ExpressionAttributeNames: prefix === '' ? { '#ns': 'ns' } : { '#ns': 'ns', '#k': 'key' },
          ExpressionAttributeValues: prefix === '' ? { ':ns': { S: ns } } : { ':ns': { S: ns }, ':p': { S: prefix } },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of page.Items ?? []) out.push(decodeItem(item));
      start = page.LastEvaluatedKey;
    } catch (err) {
      throw toMetaError(err, `list ${ns}/${prefix}*`, table.name);
    }
  } while (start !== undefined);
  return out;
}

/** Writes version `expectedVersion + 1` if the entry is at `expectedVersion` (0: absent or expired). */
export async function putExpected(
  table: Table,
  ns: Namespace,
  key: string,
  valueJson: string,
  expectedVersion: number,
  expiresAt: number | undefined,
): Promise<Stored> {
  const now = Date.now();
  const stored = storedOf(key, valueJson, expectedVersion + 1, expiresAt);
  const written = await writeIf(table, ns, stored, expectedCond(expectedVersion, now));
  if (written !== undefined) return written;
  throw conflict(ns, key, `expected version ${expectedVersion}`);
}

/** Writes the next version whatever the current one is; an expired entry is replaced from version 1. */
export async function putAny(
  table: Table,
  ns: Namespace,
  key: string,
  valueJson: string,
  expiresAt: number | undefined,
): Promise<Stored> {
  // Each round loses only to a concurrent expiry or re-creation, so a few rounds always suffice in practice.
  for (let round = 0; round < 8; round++) {
    const now = Date.now();
    const bump = bumpUpdate(valueJson, randomUUID(), expiresAt);
    const cond = liveOrAbsent(now);
    const updated = await conditional(table, `put ${ns}/${key}`, () =>
      table.client.send(
        new UpdateItemCommand({
          TableName: table.name,
          Key: keyOf(ns, key),
          UpdateExpression: bump.expression,
          ConditionExpression: cond.expression,
          ExpressionAttributeNames: { ...bump.names, ...cond.names },
          ExpressionAttributeValues: { ...bump.values, ...cond.values },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (updated.ok) {
      if (updated.out.Attributes === undefined) throw new RobustMQError('INTERNAL', `put ${ns}/${key}: DynamoDB returned no item`);
      return decodeItem(updated.out.Attributes);
    }
    // The entry has expired: it counts as absent, so the new one starts again at version 1.
    const fresh = await writeIf(table, ns, storedOf(key, valueJson, 1, expiresAt), expiredCond(now));
    if (fresh !== undefined) return fresh;
  }
  throw conflict(ns, key, 'the entry kept expiring and being re-created concurrently');
}

/** Deletes the entry; true when a live entry was removed. */
export async function deleteStored(table: Table, ns: Namespace, key: string, expectedVersion: number | undefined): Promise<boolean> {
  const now = Date.now();
  const cond = expectedVersion === undefined ? undefined : expectedCond(expectedVersion, now);
  const result = await conditional(table, `delete ${ns}/${key}`, () =>
    table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: keyOf(ns, key),
        ...conditionParams(cond),
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ),
  );
  if (!result.ok) {
    // A retried delete that finds the entry gone cannot tell whether its own earlier attempt removed it.
    const retried = result.attempts > 1 ? ' (the request was retried; an earlier attempt may have applied)' : '';
    throw conflict(ns, key, `expected version ${expectedVersion}${retried}`, result.current);
  }
  if (expectedVersion !== undefined) return expectedVersion > 0;
  const old = result.out.Attributes;
  return old !== undefined && isLive(decodeItem(old), now);
}

/** A conditional put; undefined when the condition failed (and no earlier attempt of this write applied). */
async function writeIf(table: Table, ns: Namespace, stored: Stored, cond: Expr): Promise<Stored | undefined> {
  const result = await conditional(table, `put ${ns}/${stored.key}`, () =>
    table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: encodeItem(ns, stored),
        ...conditionParams(cond),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ),
  );
  if (result.ok) return stored;
  if (result.attempts > 1 && (await getStored(table, ns, stored.key))?.writeId === stored.writeId) return stored;
  return undefined;
}

function expiredCond(now: number): Expr {
  return { expression: '#e <= :now', names: { '#e': 'expiresAt' }, values: { ':now': { N: String(now) } } };
}

function storedOf(key: string, valueJson: string, version: number, expiresAt: number | undefined): Stored {
  const writeId = randomUUID();
  return expiresAt === undefined ? { key, valueJson, version, writeId } : { key, valueJson, version, expiresAt, writeId };
}

function conflict(ns: Namespace, key: string, detail: string, current?: Item): RobustMQError {
  let found = '';
  if (current !== undefined) {
    const stored = decodeItem(current);
    found = isLive(stored, Date.now()) ? `, found version ${stored.version}` : ', found it expired';
  }
  return new RobustMQError('CONFLICT', `write on ${ns}/${key}: ${detail}${found}`);
}
