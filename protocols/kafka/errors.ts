/**
 * Kafka wire error codes (the protocol's "Error Codes" table) and the translation of core errors into them.
 * Core code throws RobustMQError with a stable code; only this edge knows Kafka's numbers.
 */
import { isRobustMQError } from '../../runtime/errors.js';

export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  UNKNOWN_PRODUCER_ID: 59,
  NON_EMPTY_GROUP: 68,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The Kafka error for an exception thrown by the core (`fallback` for anything unexpected). */
export function kafkaErrorOf(err: unknown, fallback: ErrorCode = ErrorCode.UNKNOWN_SERVER_ERROR): ErrorCode {
  if (!isRobustMQError(err)) return fallback;
  switch (err.code) {
    case 'NOT_FOUND':
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case 'ALREADY_EXISTS':
      return ErrorCode.TOPIC_ALREADY_EXISTS;
    case 'INVALID_ARGUMENT':
      return ErrorCode.INVALID_REQUEST;
    case 'OFFSET_OUT_OF_RANGE':
      return ErrorCode.OFFSET_OUT_OF_RANGE;
    case 'CORRUPT_RECORD':
      return ErrorCode.CORRUPT_MESSAGE;
    case 'RECORD_TOO_LARGE':
      return ErrorCode.MESSAGE_TOO_LARGE;
    case 'STORAGE_UNAVAILABLE':
      return ErrorCode.KAFKA_STORAGE_ERROR;
    case 'NOT_LEADER':
    case 'CLOSED':
      return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    case 'CONFLICT':
      return ErrorCode.REQUEST_TIMED_OUT;
    default:
      return fallback;
  }
}

/** A message for the response's error_message field, when it has one. */
export function errorMessageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
