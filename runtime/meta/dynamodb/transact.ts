/**
 * MetaStore transactions as one TransactWriteItems call (all or nothing, at most 100 items, 4 MB); a transaction of
 * one op is sent as that single op.
 *
 * Versions are part of the item, so a write must know the version it replaces. Ops with an expectedVersion know
 * it; for unconditional puts and deletes the current items are read first (one consistent BatchGetItem) and the
 * op is made conditional on what was read. If such a derived condition fails, someone wrote in between and the
 * whole transaction is planned again; if a condition the caller asked for fails, it is CONFLICT at once. The SDK
 * sends a ClientRequestToken with every call, so its own retries of a call cannot apply it twice.
 */
import { BatchGetItemCommand, TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { RobustMQError } from '../../errors.js';
import { checkTransact, encodeValue } from '../embedded/validate.js';
import type { Namespace, TransactOp } from '../store.js';
import { conditionParams, expected } from './conditions.js';
import { toMetaError } from './errors.js';
import { checkItemSize, checkKey, encodeItem, isLive, keyOf, MAX_TRANSACTION_BYTES, type Item, type Stored } from './item.js';
import { deleteStored, getStored, putAny, putExpected, type Table } from './items.js';

/** DynamoDB's limit on the items of one TransactWriteItems call. */
export const MAX_TRANSACT_OPS = 100;
const MAX_ROUNDS = 10;

export interface PendingChange {
  readonly type: 'put' | 'delete';
  readonly ns: Namespace;
  readonly key: string;
  readonly stored?: Stored;
}

export interface PreparedOp {
  readonly op: TransactOp;
  readonly id: string;
  readonly valueJson?: string;
}

interface Planned {
  readonly item: TransactWriteItem;
  /** The condition was derived from a read, not asked for by the caller. */
  readonly derived: boolean;
  readonly change?: PendingChange;
}

/** Validates and encodes every op before anything is sent: a bad op leaves nothing half-done. */
export function prepareTransact(ops: TransactOp[]): PreparedOp[] {
  checkTransact(ops);
  if (ops.length > MAX_TRANSACT_OPS) {
    throw new RobustMQError('INVALID_ARGUMENT', `a transaction may hold at most ${MAX_TRANSACT_OPS} ops (DynamoDB's limit), got ${ops.length}`);
  }
  let total = 0;
  const prepared = ops.map((op) => {
    checkKey(op.key);
    const id = `${op.ns}\u0000${op.key}`;
    if (op.op !== 'put') return { op, id };
    const valueJson = encodeValue(op.value);
    total += checkItemSize(op.ns, op.key, valueJson);
    return { op, id, valueJson };
  });
  if (total > MAX_TRANSACTION_BYTES) {
    throw new RobustMQError('INVALID_ARGUMENT', `transaction is ${total} bytes; DynamoDB allows at most ${MAX_TRANSACTION_BYTES}`);
  }
  return prepared;
}

/** Runs the transaction; resolves with the changes it made, for watchers. */
export async function runTransact(table: Table, ops: readonly PreparedOp[]): Promise<PendingChange[]> {
  if (ops.length === 1) return runSingle(table, ops[0]);
  const toRead = ops.filter(({ op }) => op.op !== 'check' && op.expectedVersion === undefined);
  for (let round = 1; ; round++) {
    const current = await readCurrent(table, toRead);
    const now = Date.now();
    const plan = ops.map((op) => planOp(table.name, op, current.get(op.id), now));
    try {
      await table.client.send(new TransactWriteItemsCommand({ TransactItems: plan.map((p) => p.item) }));
      return plan.flatMap((p) => (p.change === undefined ? [] : [p.change]));
    } catch (err) {
      if ((err as { name?: string }).name !== 'TransactionCanceledException') throw toMetaError(err, 'transact', table.name);
      const reasons = ((err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
      const failed = reasons.findIndex((code, i) => code === 'ConditionalCheckFailed' && !plan[i]?.derived);
      if (failed >= 0 || reasons.length === 0) throw conflictAt(ops, failed);
      if (reasons.includes('ValidationError')) {
        throw new RobustMQError('INVALID_ARGUMENT', `transact: DynamoDB rejected an item: ${(err as Error).message}`, { cause: err });
      }
      // A concurrent writer moved a derived condition, or DynamoDB saw a conflicting transaction: plan again.
      if (round >= MAX_ROUNDS) {
        throw new RobustMQError('CONFLICT', `transact: still racing with concurrent writes after ${MAX_ROUNDS} rounds (${reasons.join(', ')})`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** round)));
    }
  }
}

/**
 * A transaction of one op is that op on its own: one single-item request instead of a read plus a transaction
 * (which DynamoDB also bills twice). A lone check is a consistent read.
 */
async function runSingle(table: Table, { op, valueJson }: PreparedOp): Promise<PendingChange[]> {
  const { ns, key } = op;
  if (op.op === 'put') {
    const expiresAt = op.ttlMs === undefined ? undefined : Date.now() + op.ttlMs;
    const stored =
      op.expectedVersion === undefined
        ? await putAny(table, ns, key, valueJson!, expiresAt)
        : await putExpected(table, ns, key, valueJson!, op.expectedVersion, expiresAt);
    return [{ type: 'put', ns, key, stored }];
  }
  if (op.op === 'delete') return (await deleteStored(table, ns, key, op.expectedVersion)) ? [{ type: 'delete', ns, key }] : [];
  const current = await getStored(table, ns, key);
  const version = current !== undefined && isLive(current, Date.now()) ? current.version : 0;
  if (version !== op.expectedVersion) {
    throw new RobustMQError('CONFLICT', `transact check on ${ns}/${key}: expected version ${op.expectedVersion}, found ${version || 'absent'}`);
  }
  return [];
}

/** What a transaction needs to know of an entry it writes unconditionally. */
interface Current {
  readonly version: number;
  readonly expiresAt?: number;
}

function planOp(table: string, { op, valueJson }: PreparedOp, cur: Current | undefined, now: number): Planned {
  const Key = keyOf(op.ns, op.key);
  const live = cur !== undefined && isLive(cur, now) ? cur : undefined;
  const derived = op.op !== 'check' && op.expectedVersion === undefined;
  if (op.op === 'check') {
    const { expression, names, values } = expected(op.expectedVersion, now);
    const check = { TableName: table, Key, ConditionExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
    return { item: { ConditionCheck: check }, derived };
  }
  // A derived condition: the entry is still as read (live at that version, or absent/expired as version 0).
  const base = derived ? (live?.version ?? 0) : op.expectedVersion!;
  const cond = expected(base, now);
  if (op.op === 'put') {
    const expiresAt = op.ttlMs === undefined ? undefined : now + op.ttlMs;
    const stored: Stored = {
      key: op.key,
      valueJson: valueJson!,
      version: base + 1,
      writeId: randomUUID(),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    const put = { TableName: table, Item: encodeItem(op.ns, stored), ...conditionParams(cond) };
    return { item: { Put: put }, derived, change: { type: 'put', ns: op.ns, key: op.key, stored } };
  }
  const item: TransactWriteItem = { Delete: { TableName: table, Key, ...conditionParams(cond) } };
  // Only a delete that certainly removes a live entry is a change (a delete expecting version 0 removes nothing).
  return base > 0 ? { item, derived, change: { type: 'delete', ns: op.ns, key: op.key } } : { item, derived };
}

/** Versions of the entries of `ops`, by id (one consistent BatchGetItem without values, plus unprocessed keys). */
async function readCurrent(table: Table, ops: readonly PreparedOp[]): Promise<Map<string, Current>> {
  const found = new Map<string, Current>();
  let keys: Item[] = ops.map(({ op }) => keyOf(op.ns, op.key));
  for (let round = 0; keys.length > 0; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 20 * 2 ** round)));
    try {
      const out = await table.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table.name]: {
              Keys: keys,
              ConsistentRead: true,
              ProjectionExpression: '#ns, #k, #v, #e',
              ExpressionAttributeNames: { '#ns': 'ns', '#k': 'key', '#v': 'version', '#e': 'expiresAt' },
            },
          },
        }),
      );
      for (const item of out.Responses?.[table.name] ?? []) found.set(`${item.ns?.S}\u0000${item.key?.S}`, currentOf(item));
      keys = out.UnprocessedKeys?.[table.name]?.Keys ?? [];
    } catch (err) {
      throw toMetaError(err, 'transact (read)', table.name);
    }
    if (round >= 20 && keys.length > 0) {
      throw new RobustMQError('STORAGE_UNAVAILABLE', `transact: DynamoDB left ${keys.length} keys unprocessed after ${round + 1} reads`);
    }
  }
  return found;
}

function currentOf(item: Item): Current {
  const version = Number(item.version?.N);
  if (!Number.isSafeInteger(version)) throw new RobustMQError('INTERNAL', `malformed meta item in DynamoDB (key ${item.key?.S})`);
  return item.expiresAt?.N === undefined ? { version } : { version, expiresAt: Number(item.expiresAt.N) };
}

function conflictAt(ops: readonly PreparedOp[], index: number): RobustMQError {
  if (index < 0) return new RobustMQError('CONFLICT', 'transact: cancelled by DynamoDB without reasons');
  const { op } = ops[index];
  return new RobustMQError('CONFLICT', `transact op ${index} (${op.op}) on ${op.ns}/${op.key}: expected version ${op.expectedVersion} did not hold`);
}
