/**
 * Appending one partition's record set from a Produce request: validate every batch without decompressing it
 * (magic 2, length, CRC32C, record count), refuse transactional batches, check idempotent sequences, stamp the
 * leader epoch, append as sent (the engine assigns offsets in place).
 */
import {
  isTransactional,
  readBatchHeader,
  setPartitionLeaderEpoch,
  validateBatches,
  type BatchHeader,
} from '../../../runtime/storage/record-batch.js';
import { ErrorCode, errorMessageOf, kafkaErrorOf } from '../errors.js';
import type { ProducerStates } from '../producers/sequences.js';
import type { KafkaRequestContext } from './types.js';

export const LEADER_EPOCH = 0;
/** Where the magic byte sits in every message format (after offset, length and CRC/leader epoch). */
const MAGIC_OFFSET = 16;

export interface PartitionOutcome {
  errorCode: ErrorCode;
  errorMessage: string | null;
  baseOffset: number;
  logStartOffset: number;
  records: number;
}

function stored(at: { baseOffset: number; logStartOffset: number }, records: number): PartitionOutcome {
  return { errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: at.baseOffset, logStartOffset: at.logStartOffset, records };
}

function failed(errorCode: ErrorCode, errorMessage: string | null): PartitionOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logStartOffset: -1, records: 0 };
}

export async function producePartition(
  ctx: KafkaRequestContext,
  producers: ProducerStates,
  topic: string,
  partition: number,
  records: Buffer | null,
): Promise<PartitionOutcome> {
  const topics = ctx.broker.topics;
  let headers: BatchHeader[];
  try {
    topics.partition(topic, partition);
    if (!records || records.length === 0) return failed(ErrorCode.CORRUPT_MESSAGE, 'empty record set');
    if (records.length > MAGIC_OFFSET && records[MAGIC_OFFSET] < 2) {
      const magic = records[MAGIC_OFFSET];
      return failed(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `message format v${magic} is not supported; send RecordBatch v2`);
    }
    headers = validateBatches(records, topics.defaults.maxBatchBytes);
  } catch (err) {
    return failed(kafkaErrorOf(err), errorMessageOf(err));
  }
  if (headers.some((h) => isTransactional(h.attributes))) {
    return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported by this broker');
  }
  for (const h of headers) setPartitionLeaderEpoch(records, h.position, LEADER_EPOCH);
  const count = headers.reduce((n, h) => n + h.recordCount, 0);
  const producerId = headers[0].producerId;
  try {
    if (producerId < 0) {
      const result = await topics.append(topic, partition, records, 'kafka');
      return stored(result, count);
    }
    if (headers.some((h) => h.producerId !== producerId)) {
      return failed(ErrorCode.INVALID_RECORD, 'all batches of one partition must come from one producer');
    }
    return await producers.withPartition(topic, partition, async (state) => {
      for (const h of headers) {
        const verdict = state.check(h);
        if (verdict.kind === 'error') return failed(verdict.code, verdict.message);
        if (verdict.kind === 'duplicate' && headers.length === 1) {
          // KIP-98: a retried batch gets the offset it was stored at the first time, and no error.
          const log = topics.partition(topic, partition);
          return stored({ baseOffset: verdict.baseOffset, logStartOffset: log.logStartOffset() }, 0);
        }
        if (verdict.kind === 'duplicate') return failed(ErrorCode.DUPLICATE_SEQUENCE_NUMBER, 'batch already stored');
      }
      const result = await topics.append(topic, partition, records, 'kafka');
      for (const h of headers) state.record(readBatchHeader(records, h.position));
      return stored(result, count);
    });
  } catch (err) {
    ctx.log.warn({ err, topic, partition }, 'kafka produce append failed');
    return failed(kafkaErrorOf(err), errorMessageOf(err));
  }
}
