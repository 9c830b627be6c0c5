/**
 * What the group APIs share: the node's one GroupCoordinator (created with the Kafka server's node state and closed
 * with it) and the translation of the coordinator's outcomes into Kafka error codes.
 */
import { GroupCoordinator } from '../../../../runtime/core/groups/coordinator.js';
import type { GroupErrorCode } from '../../../../runtime/core/groups/types.js';
import { ErrorCode } from '../../errors.js';
import type { KafkaRequestContext } from '../types.js';

export function groupsOf(ctx: KafkaRequestContext): GroupCoordinator {
  return ctx.kafka.shared(
    'group-coordinator',
    () =>
      new GroupCoordinator(ctx.broker.meta, {
        initialRebalanceDelayMs: ctx.broker.config.groupInitialRebalanceDelayMs,
        minSessionTimeoutMs: ctx.broker.config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: ctx.broker.config.groupMaxSessionTimeoutMs,
        log: ctx.broker.log.child({ component: 'groups' }),
      }),
    (coordinator) => coordinator.close(),
  );
}

/** Not (yet) in ../../errors.ts: Kafka's OFFSET_METADATA_TOO_LARGE. */
const OFFSET_METADATA_TOO_LARGE = 12;

const CODES: Record<GroupErrorCode, number> = {
  COORDINATOR_NOT_AVAILABLE: ErrorCode.COORDINATOR_NOT_AVAILABLE,
  INVALID_GROUP_ID: ErrorCode.INVALID_GROUP_ID,
  INVALID_SESSION_TIMEOUT: ErrorCode.INVALID_SESSION_TIMEOUT,
  UNKNOWN_MEMBER_ID: ErrorCode.UNKNOWN_MEMBER_ID,
  ILLEGAL_GENERATION: ErrorCode.ILLEGAL_GENERATION,
  REBALANCE_IN_PROGRESS: ErrorCode.REBALANCE_IN_PROGRESS,
  INCONSISTENT_GROUP_PROTOCOL: ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  MEMBER_ID_REQUIRED: ErrorCode.MEMBER_ID_REQUIRED,
  FENCED_INSTANCE_ID: ErrorCode.FENCED_INSTANCE_ID,
  NON_EMPTY_GROUP: ErrorCode.NON_EMPTY_GROUP,
  GROUP_ID_NOT_FOUND: ErrorCode.GROUP_ID_NOT_FOUND,
  UNKNOWN_TOPIC_OR_PARTITION: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  OFFSET_METADATA_TOO_LARGE,
  INVALID_COMMIT_OFFSET_SIZE: ErrorCode.INVALID_COMMIT_OFFSET_SIZE,
};

export function kafkaCode(error: GroupErrorCode | undefined): number {
  return error === undefined ? ErrorCode.NONE : CODES[error];
}

/** Kafka reports a member's host as `/ip`. */
export function clientHostOf(ctx: KafkaRequestContext): string {
  const address = ctx.connection.remoteAddress;
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon) : address;
  return `/${host.replace(/^\[(.*)\]$/, '$1')}`;
}

/** Request buffers are views of the request frame; members keep theirs for a long time, so copy them out. */
export function own(buf: Buffer): Buffer {
  return Buffer.from(buf);
}
