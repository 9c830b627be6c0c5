/**
 * Retries of S3 and MetaStore calls: which failures a retry can help, and capped exponential backoff with full
 * jitter ("Exponential Backoff and Jitter", AWS Architecture Blog), so brokers that failed together do not retry in
 * lock-step and prolong a throttling episode (503 SlowDown).
 */
import { isRobustMQError } from '../../errors.js';

interface SdkLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const RETRIABLE_NAMES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TransactionConflictException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * True for throttling (503 SlowDown, 429), server errors (5xx), timeouts and connection failures — anything that
 * may succeed when asked again. Client errors (403 AccessDenied, 404 NoSuchBucket, 400) are not.
 */
export function isRetriable(err: unknown): boolean {
  if (isRobustMQError(err)) return err.retriable;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as SdkLikeError;
  if (e.$retryable) return true;
  if (e.name && RETRIABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return true; // no HTTP answer at all: the connection failed
  return status >= 500 || status === 429 || status === 408;
}

/** HTTP status of an SDK error, when the service answered. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as SdkLikeError | null)?.$metadata?.httpStatusCode;
}

export interface Backoff {
  /** First retry waits up to this long. @default 20 */
  readonly baseMs?: number;
  /** No wait exceeds this. @default 1000 */
  readonly capMs?: number;
}

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)). `attempt` counts from 0. */
export function backoffDelay(attempt: number, backoff: Backoff = {}): number {
  const base = backoff.baseMs ?? 20;
  const cap = backoff.capMs ?? 1000;
  return Math.random() * Math.min(cap, base * 2 ** Math.min(attempt, 30));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

export interface RetryOptions extends Backoff {
  /** Epoch ms after which no new attempt starts; the last error is thrown. */
  readonly deadline: number;
  /** Aborting stops retrying (engine closing). */
  readonly signal?: AbortSignal;
  /** Called before each wait, for logs and counters. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` until it succeeds, fails for good, the deadline would pass during the wait, or `signal` aborts. */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const delay = backoffDelay(attempt, options);
      if (!isRetriable(err) || options.signal?.aborted || Date.now() + delay >= options.deadline) throw err;
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
