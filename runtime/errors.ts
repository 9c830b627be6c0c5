/**
 * Errors that cross layer boundaries carry a stable code, an optional cause and whether a retry can help.
 * Protocol edges translate them: Kafka error codes in protocols/kafka, MQTT reason codes in protocols/mqtt,
 * HTTP statuses in runtime/admin.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'OFFSET_OUT_OF_RANGE'
  | 'CORRUPT_RECORD'
  | 'RECORD_TOO_LARGE'
  | 'STORAGE_UNAVAILABLE'
  | 'NOT_LEADER'
  | 'CLOSED'
  | 'INTERNAL';

const RETRIABLE: ReadonlySet<ErrorCode> = new Set(['CONFLICT', 'STORAGE_UNAVAILABLE', 'NOT_LEADER']);

export class RobustMQError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RobustMQError';
    this.code = code;
    this.retriable = options?.retriable ?? RETRIABLE.has(code);
  }
}

export function isRobustMQError(err: unknown, code?: ErrorCode): err is RobustMQError {
  return err instanceof RobustMQError && (code === undefined || err.code === code);
}
