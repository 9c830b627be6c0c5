/** State shared by the parts of one segmented partition log (writer, reader, retention). */
import { RobustMQError } from '../../errors.js';
import type { FlushPolicy, LogConfig, PartitionId } from '../engine.js';
import type { Segment, SegmentContext } from './segment.js';

export interface EngineContext extends SegmentContext {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly defaultFlush: FlushPolicy;
}

/** Where a read ended, so the next sequential read of a consumer skips the index lookup. */
export interface ReadHint {
  segment: Segment;
  offset: number;
  position: number;
}

export interface LogState {
  readonly id: PartitionId;
  readonly dir: string;
  readonly ctx: EngineContext;
  /** Oldest first; replaced (never mutated) when segments are added or removed, so readers can hold a snapshot. */
  segments: Segment[];
  /** Offset after the last acknowledged append: readers never see beyond it. */
  highWatermark: number;
  logStartOffset: number;
  config: LogConfig;
  hints: ReadHint[];
  /** The checkpoint on disk records exactly this state as cleanly closed; any change clears it. */
  cleanOnDisk: boolean;
  /** Why the log refuses calls (closed or dropped), if it does. */
  closedReason?: string;
}

export function flushPolicyOf(state: LogState): FlushPolicy {
  return state.config.flush ?? state.ctx.defaultFlush;
}

export function activeSegment(state: LogState): Segment {
  return state.segments[state.segments.length - 1];
}

export function assertOpen(state: LogState): void {
  if (state.closedReason !== undefined) {
    throw new RobustMQError('CLOSED', `partition ${state.id.topic}-${state.id.partition} ${state.closedReason}`);
  }
}

export function outOfRange(state: LogState, what: string): RobustMQError {
  return new RobustMQError(
    'OFFSET_OUT_OF_RANGE',
    `${what} is outside [${state.logStartOffset}, ${state.highWatermark}] of ${state.id.topic}-${state.id.partition}`,
  );
}

/** Wraps an I/O failure as a retriable storage error naming the partition. */
export function storageError(state: LogState, what: string, cause: unknown): RobustMQError {
  if (cause instanceof RobustMQError) return cause;
  return new RobustMQError('STORAGE_UNAVAILABLE', `${what} failed for ${state.id.topic}-${state.id.partition}`, { cause });
}
