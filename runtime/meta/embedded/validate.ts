/** Argument checks for the embedded meta store; each failure is an INVALID_ARGUMENT RobustMQError. */
import { RobustMQError } from '../../errors.js';
import { NAMESPACES, type Namespace, type TransactOp } from '../store.js';

function invalid(message: string): RobustMQError {
  return new RobustMQError('INVALID_ARGUMENT', message);
}

export function checkTarget(ns: Namespace, key: string): void {
  if (!NAMESPACES.includes(ns)) throw invalid(`unknown meta namespace "${String(ns)}"`);
  if (typeof key !== 'string' || key.length === 0) throw invalid(`meta key must be a non-empty string`);
}

export function checkVersion(expectedVersion: number | undefined): void {
  if (expectedVersion === undefined) return;
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw invalid(`expectedVersion must be a non-negative integer, got ${expectedVersion}`);
  }
}

export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs === undefined) return;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw invalid(`ttlMs must be a positive number, got ${ttlMs}`);
}

/** JSON text of a value; values must be JSON-able (no undefined, functions, BigInt or cycles). */
export function encodeValue(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new RobustMQError('INVALID_ARGUMENT', `meta value is not JSON-serialisable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (json === undefined) throw invalid('meta value must be JSON-serialisable (got undefined, a function or a symbol)');
  return json;
}

/** Validates every op and that no entry appears twice (DynamoDB's TransactWriteItems rule too). */
export function checkTransact(ops: readonly TransactOp[]): void {
  if (!Array.isArray(ops)) throw invalid('transact expects an array of ops');
  const seen = new Set<string>();
  for (const op of ops) {
    checkTarget(op.ns, op.key);
    checkVersion(op.expectedVersion);
    if (op.op === 'put') checkTtl(op.ttlMs);
    else if (op.op === 'check' && op.expectedVersion === undefined) throw invalid('a check op needs expectedVersion');
    else if (op.op !== 'delete' && op.op !== 'check') throw invalid(`unknown transact op "${String((op as TransactOp).op)}"`);
    const id = `${op.ns}\u0000${op.key}`;
    if (seen.has(id)) throw invalid(`transact names ${op.ns}/${op.key} more than once`);
    seen.add(id);
  }
}
