/**
 * One pass over the partitions of a Fetch request: reads stored batches as they are (no copy, no decompression),
 * honouring max_bytes and partition_max_bytes, except that the first partition with data always returns at least
 * one whole batch so a consumer can make progress past a batch larger than its limits (KIP-74).
 */
import { batchHeaders } from '../../../runtime/storage/record-batch.js';
import { mayOnTopic } from '../authz.js';
import { ErrorCode, kafkaErrorOf } from '../errors.js';
import type { Request } from '../messages/fetch.js';
import type { KafkaRequestContext } from './types.js';

export interface PartitionRead {
  partitionIndex: number;
  errorCode: ErrorCode;
  highWatermark: number;
  logStartOffset: number;
  chunks: Buffer[];
  records: number;
}

export interface FetchPass {
  topics: Array<{ topic: string; partitions: PartitionRead[] }>;
  bytes: number;
  /** A partition reported an error: answer now instead of long-polling. */
  hasError: boolean;
}

function empty(partitionIndex: number, errorCode: ErrorCode, hw = -1, start = -1): PartitionRead {
  return { partitionIndex, errorCode, highWatermark: hw, logStartOffset: start, chunks: [], records: 0 };
}

export async function readOnce(ctx: KafkaRequestContext, req: Request): Promise<FetchPass> {
  const topics = ctx.broker.topics;
  let budget = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
  let bytes = 0;
  let hasError = false;
  const out: FetchPass['topics'] = [];
  for (const t of req.topics) {
    if (!mayOnTopic(ctx, 'consume', t.topic)) {
      hasError = true;
      out.push({ topic: t.topic, partitions: t.partitions.map((p) => empty(p.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) });
      continue;
    }
    const partitions: PartitionRead[] = [];
    for (const p of t.partitions) {
      let log;
      try {
        log = topics.partition(t.topic, p.partition);
      } catch (err) {
        hasError = true;
        partitions.push(empty(p.partition, kafkaErrorOf(err)));
        continue;
      }
      const hw = log.highWatermark();
      const start = log.logStartOffset();
      if (p.currentLeaderEpoch > 0) {
        hasError = true;
        partitions.push(empty(p.partition, ErrorCode.UNKNOWN_LEADER_EPOCH, hw, start));
        continue;
      }
      if (p.fetchOffset < start || p.fetchOffset > hw) {
        hasError = true;
        partitions.push(empty(p.partition, ErrorCode.OFFSET_OUT_OF_RANGE, hw, start));
        continue;
      }
      const limit = Math.min(p.partitionMaxBytes, budget);
      if (p.fetchOffset === hw || limit <= 0) {
        partitions.push(empty(p.partition, ErrorCode.NONE, hw, start));
        continue;
      }
      try {
        const read = await log.read(p.fetchOffset, limit);
        if (read.bytes > limit && bytes > 0) {
          // Only the first partition with data may exceed the limits.
          partitions.push(empty(p.partition, ErrorCode.NONE, read.highWatermark, read.logStartOffset));
          continue;
        }
        let records = 0;
        for (const chunk of read.chunks) for (const h of batchHeaders(chunk)) records += h.recordCount;
        partitions.push({
          partitionIndex: p.partition,
          errorCode: ErrorCode.NONE,
          highWatermark: read.highWatermark,
          logStartOffset: read.logStartOffset,
          chunks: read.chunks,
          records,
        });
        bytes += read.bytes;
        budget -= read.bytes;
      } catch (err) {
        hasError = true;
        partitions.push(empty(p.partition, kafkaErrorOf(err), log.highWatermark(), log.logStartOffset()));
      }
    }
    out.push({ topic: t.topic, partitions });
  }
  return { topics: out, bytes, hasError };
}
