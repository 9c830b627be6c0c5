/**
 * How a meta entry is laid out as a DynamoDB item in the `<prefix>-meta` table: partition key `ns`, sort key `key`,
 * `value` (the JSON text), `version`, `wid` (a random id of the write that produced this version, so a write whose
 * response was lost can tell afterwards whether it applied), and for entries written with a TTL `expiresAt` (epoch
 * ms, what the store filters on) plus `ttl` (epoch seconds, DynamoDB's TTL attribute, which only deletes lazily).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { RobustMQError } from '../../errors.js';
import type { Entry, Namespace } from '../store.js';

export type Item = Record<string, AttributeValue>;

/** DynamoDB's item size limit (400 KB). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's limit on a sort key value. */
export const MAX_KEY_BYTES = 1024;
/** DynamoDB's limit on the total size of one TransactWriteItems call. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

export interface Stored {
  readonly key: string;
  readonly valueJson: string;
  readonly version: number;
  readonly expiresAt?: number;
  readonly writeId?: string;
}

export function isLive(stored: { readonly expiresAt?: number }, now: number): boolean {
  return stored.expiresAt === undefined || stored.expiresAt > now;
}

export function toEntry<T>(ns: Namespace, stored: Stored): Entry<T> {
  const value = JSON.parse(stored.valueJson) as T;
  const { key, version, expiresAt } = stored;
  return expiresAt === undefined ? { ns, key, value, version } : { ns, key, value, version, expiresAt };
}

export function keyOf(ns: Namespace, key: string): Item {
  return { ns: { S: ns }, key: { S: key } };
}

export function encodeItem(ns: Namespace, stored: Stored): Item {
  const item: Item = {
    ...keyOf(ns, stored.key),
    value: { S: stored.valueJson },
    version: { N: String(stored.version) },
  };
  if (stored.writeId !== undefined) item.wid = { S: stored.writeId };
  if (stored.expiresAt !== undefined) {
    item.expiresAt = { N: String(stored.expiresAt) };
    item.ttl = { N: String(Math.ceil(stored.expiresAt / 1000)) };
  }
  return item;
}

export function decodeItem(item: Item): Stored {
  const key = item.key?.S;
  const valueJson = item.value?.S;
  const version = Number(item.version?.N);
  if (key === undefined || valueJson === undefined || !Number.isSafeInteger(version)) {
    throw new RobustMQError('INTERNAL', `malformed meta item in DynamoDB (ns ${item.ns?.S}, key ${key})`);
  }
  const expiresAt = item.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N);
  const writeId = item.wid?.S;
  return {
    key,
    valueJson,
    version,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(writeId === undefined ? {} : { writeId }),
  };
}

/** Upper bound of an item's size as DynamoDB counts it: UTF-8 names plus values, numbers at most 21 bytes. */
export function itemBytes(ns: Namespace, key: string, valueJson: string): number {
  const text = (s: string) => Buffer.byteLength(s, 'utf8');
  const strings = text('ns') + text(ns) + text('key') + text(key) + text('value') + text(valueJson) + text('wid') + 36;
  const numbers = text('version') + text('expiresAt') + text('ttl') + 3 * 21;
  return strings + numbers;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Rejects keys DynamoDB cannot store: not valid UTF-8, or longer than a sort key may be. */
export function checkKey(key: string): void {
  if (LONE_SURROGATE.test(key)) throw new RobustMQError('INVALID_ARGUMENT', 'meta key is not valid Unicode (lone surrogate)');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new RobustMQError('INVALID_ARGUMENT', `meta key is ${bytes} bytes; DynamoDB allows at most ${MAX_KEY_BYTES}`);
  }
}

/** Rejects values whose item would exceed DynamoDB's 400 KB limit, naming the sizes. */
export function checkItemSize(ns: Namespace, key: string, valueJson: string): number {
  const bytes = itemBytes(ns, key, valueJson);
  if (bytes > MAX_ITEM_BYTES) {
    throw new RobustMQError(
      'INVALID_ARGUMENT',
      `meta value for ${ns}/${key} is too large: the DynamoDB item would be ${bytes} bytes, the limit is ${MAX_ITEM_BYTES}`,
    );
  }
  return bytes;
}

/** UTF-16 code unit order, as the embedded store sorts (DynamoDB itself returns UTF-8 byte order). */
export function byKey(a: Stored, b: Stored): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
