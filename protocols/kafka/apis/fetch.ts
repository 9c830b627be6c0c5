/**
 * Fetch (key 1). Versions 4-12 return stored RecordBatch v2 data; versions 0-3 are advertised (librdkafka enables
 * gzip/snappy only when the range includes v2) but their clients expect the old message formats, which this broker
 * does not convert to, so they get UNSUPPORTED_FOR_MESSAGE_FORMAT per partition.
 *
 * Long-polls until min_bytes are available or max_wait_ms passes, woken by appends (TopicManager.waitForData).
 * No fetch sessions are kept (KIP-227): every answer carries session id 0, which tells the client to keep sending
 * full fetches; a request naming a session gets FETCH_SESSION_ID_NOT_FOUND. The last stable offset equals the high
 * watermark, as there are no transactions.
 */
import { mayOnTopic } from '../authz.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/fetch.js';
import { readOnce, type FetchPass } from './fetch-read.js';
import { defineApi, type KafkaRequestContext } from './types.js';

const READ_COMMITTED = 1;
/** Fetch v4 is the first whose clients read RecordBatch v2 (KIP-98). */
const FIRST_RECORD_BATCH_VERSION = 4;

function oldFormat(ctx: KafkaRequestContext, req: Request): FetchPass {
  const topics = req.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p) => {
      const allowed = mayOnTopic(ctx, 'consume', t.topic);
      const count = allowed ? (ctx.broker.topics.get(t.topic)?.partitions ?? 0) : 0;
      const log = p.partition >= 0 && p.partition < count ? ctx.broker.topics.partition(t.topic, p.partition) : undefined;
      const known = log ? ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return {
        partitionIndex: p.partition,
        errorCode: allowed ? known : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        highWatermark: log?.highWatermark() ?? -1,
        logStartOffset: log?.logStartOffset() ?? -1,
        chunks: [],
        records: 0,
      };
    }),
  }));
  return { topics, bytes: 0, hasError: true };
}

/** Resolves when any requested partition gets data past its fetch offset, or at the deadline / abort. */
async function waitForAny(ctx: KafkaRequestContext, req: Request, timeoutMs: number): Promise<void> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const waits = req.topics.flatMap((t) =>
      t.partitions.map((p) => ctx.broker.topics.waitForData(t.topic, p.partition, p.fetchOffset, timeoutMs, stop.signal)),
    );
    await Promise.race(waits);
  } finally {
    stop.abort();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

function toResponse(pass: FetchPass, req: Request, errorCode: ErrorCode): Response {
  return {
    throttleTimeMs: 0,
    errorCode,
    sessionId: 0,
    responses: pass.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: p.highWatermark,
        lastStableOffset: p.highWatermark,
        logStartOffset: p.logStartOffset,
        abortedTransactions: req.isolationLevel === READ_COMMITTED ? [] : null,
        preferredReadReplica: -1,
        records: p.chunks,
      })),
    })),
  };
}

export const fetchApi = defineApi({
  apiKey: 1,
  name: 'Fetch',
  minVersion: 0,
  maxVersion: 12,
  flexibleVersion: 12,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (ctx.apiVersion >= 7 && req.sessionId !== 0) {
      return toResponse({ topics: [], bytes: 0, hasError: true }, req, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    }
    if (ctx.apiVersion < FIRST_RECORD_BATCH_VERSION) return toResponse(oldFormat(ctx, req), req, ErrorCode.NONE);
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    let pass = await readOnce(ctx, req);
    while (!pass.hasError && pass.bytes < Math.max(1, req.minBytes) && !ctx.signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await waitForAny(ctx, req, remaining);
      pass = await readOnce(ctx, req);
    }
    const records = pass.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.records, 0), 0);
    if (records > 0) ctx.broker.metrics.messagesOut.inc({ protocol: 'kafka' }, records);
    return toResponse(pass, req, ErrorCode.NONE);
  },
  errorResponse: (req, code) => toResponse({ topics: [], bytes: 0, hasError: true }, req, code),
});
