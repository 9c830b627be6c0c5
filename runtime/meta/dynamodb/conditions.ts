/**
 * Condition and update expressions. Attribute names always go through placeholders: `key`, `value` and `ttl` are
 * DynamoDB reserved words. Every expression declares exactly the names and values it uses, because DynamoDB
 * rejects unused ones.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export interface Expr {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

const num = (n: number): AttributeValue => ({ N: String(n) });

/** The entry exists, has not expired and is at `version`. */
export function versionIs(version: number, now: number): Expr {
  return {
    expression: '#v = :ev AND (attribute_not_exists(#e) OR #e > :now)',
    names: { '#v': 'version', '#e': 'expiresAt' },
    values: { ':ev': num(version), ':now': num(now) },
  };
}

/** The entry does not exist, or has expired (and so counts as absent). */
export function absent(now: number): Expr {
  return {
    expression: 'attribute_not_exists(#k) OR #e <= :now',
    names: { '#k': 'key', '#e': 'expiresAt' },
    values: { ':now': num(now) },
  };
}

/** Anything but an expired entry. */
export function liveOrAbsent(now: number): Expr {
  return {
    expression: 'attribute_not_exists(#k) OR attribute_not_exists(#e) OR #e > :now',
    names: { '#k': 'key', '#e': 'expiresAt' },
    values: { ':now': num(now) },
  };
}

/** The MetaStore's expectedVersion: 0 = must be absent, n = must be at version n. */
export function expected(version: number, now: number): Expr {
  return version === 0 ? absent(now) : versionIs(version, now);
}

/**
 * An unconditional write that keeps counting versions: value, version + 1 and a new write id, with the TTL
 * attributes set or removed.
 */
export function bumpUpdate(valueJson: string, writeId: string, expiresAt: number | undefined): Expr {
  const names: Record<string, string> = { '#val': 'value', '#v': 'version', '#w': 'wid', '#e': 'expiresAt', '#t': 'ttl' };
  const values: Record<string, AttributeValue> = { ':val': { S: valueJson }, ':zero': num(0), ':one': num(1), ':w': { S: writeId } };
  let expression = 'SET #val = :val, #v = if_not_exists(#v, :zero) + :one, #w = :w';
  if (expiresAt === undefined) {
    expression += ' REMOVE #e, #t';
  } else {
    expression += ', #e = :e, #t = :t';
    values[':e'] = num(expiresAt);
    values[':t'] = num(Math.ceil(expiresAt / 1000));
  }
  return { expression, names, values };
}

/** Request fields for a condition expression (none when `cond` is undefined). */
export function conditionParams(cond: Expr | undefined): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
} {
  if (cond === undefined) return {};
  return { ConditionExpression: cond.expression, ExpressionAttributeNames: cond.names, ExpressionAttributeValues: cond.values };
}
