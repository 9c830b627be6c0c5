/**
 * DynamoDB failures as RobustMQErrors. By the time an error gets here the SDK has already retried what its
 * standard retry mode considers retriable (throttling, 5xx, timeouts, connection resets), so what is left is
 * reported as STORAGE_UNAVAILABLE (retriable unless it is about credentials or a missing table). Conditional-check
 * failures are CONFLICT and are never retried here: only the caller can decide whether to try again.
 */
import { RobustMQError } from '../../errors.js';
import type { Item } from './item.js';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { attempts?: number; httpStatusCode?: number };
  Item?: Item;
}

const CREDENTIAL_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'CredentialsProviderError',
  'ExpiredTokenException',
]);

export function isConditionalFailure(err: unknown): err is SdkError {
  return (err as SdkError | undefined)?.name === 'ConditionalCheckFailedException';
}

/** How many HTTP attempts the SDK made for the call that failed (1 = it was not retried). */
export function attemptsOf(err: unknown): number {
  return (err as SdkError | undefined)?.$metadata?.attempts ?? 1;
}

export function toMetaError(err: unknown, what: string, table: string): RobustMQError {
  if (err instanceof RobustMQError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const message = e.message ?? String(err);
  if (name === 'ResourceNotFoundException') {
    return new RobustMQError('STORAGE_UNAVAILABLE', `${what}: DynamoDB table "${table}" does not exist`, {
      cause: err,
      retriable: false,
    });
  }
  if (name === 'ValidationException') {
    return new RobustMQError('INVALID_ARGUMENT', `${what}: DynamoDB rejected the request: ${message}`, { cause: err });
  }
  if (name === 'ConditionalCheckFailedException') {
    return new RobustMQError('CONFLICT', `${what}: condition failed`, { cause: err });
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return new RobustMQError('STORAGE_UNAVAILABLE', `${what}: DynamoDB refused the request (${name}): ${message}`, {
      cause: err,
      retriable: false,
    });
  }
  const attempts = attemptsOf(err);
  return new RobustMQError(
    'STORAGE_UNAVAILABLE',
    `${what}: DynamoDB request failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${name}: ${message})`,
    { cause: err, retriable: true },
  );
}
