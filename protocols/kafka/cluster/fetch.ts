/**
 * Fetch in a cluster. Partitions led here are read here; the others are fetched from their leaders, one Fetch
 * per leader, and the answers merged in request order. Long-polling spans brokers in slices: a first pass asks
 * everyone without waiting; while nothing has data, passes of at most SLICE_MS (long-polls on every leader at
 * once) repeat until max_wait_ms. A slice bounds how late data on one leader is noticed while another waits, and
 * how long an answered request can hold a peer connection — there is no way to cancel a Fetch in flight.
 */
import { mayOnTopic } from '../authz.js';
import type { AnyKafkaApi, KafkaApi, KafkaRequestContext } from '../apis/types.js';
import { ErrorCode } from '../errors.js';
import type { Request, Response } from '../messages/fetch.js';
import { forward, forwardError, FORWARD_SLACK_MS } from './forward.js';
import { onlyLocal, partKey, routable, routeByLeader, type Routes, type TopicPart } from './routes.js';

const SLICE_MS = 250;
/** Fetch v4 is the first whose clients read RecordBatch v2: older ones are answered locally as before. */
const FIRST_RECORD_BATCH_VERSION = 4;

type FetchPartition = Request['topics'][number]['partitions'][number];
type PartitionAnswer = Response['responses'][number]['partitions'][number];

function empty(req: Request, partitionIndex: number, errorCode: number): PartitionAnswer {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    divergingEpoch: { epoch: -1, endOffset: -1 },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1, epoch: -1 },
    abortedTransactions: req.isolationLevel === 1 ? [] : null,
    preferredReadReplica: -1,
    records: null,
  };
}

function hasRecords(a: PartitionAnswer): boolean {
  const r = a.records as Buffer | Buffer[] | null;
  return r !== null && (Buffer.isBuffer(r) ? r.length > 0 : r.some((c) => c.length > 0));
}

async function pass(
  api: KafkaApi<Request, Response>,
  req: Request,
  ctx: KafkaRequestContext,
  routes: Routes<FetchPartition>,
  waitMs: number,
): Promise<Map<string, PartitionAnswer>> {
  const answers = new Map<string, PartitionAnswer>();
  const sub = (topics: TopicPart<FetchPartition>[]): Request => ({
    ...req,
    maxWaitMs: waitMs,
    topics: topics.map((t) => ({ topic: t.name, partitions: t.parts })),
  });
  const collect = (res: Response | null): void => {
    for (const t of res?.responses ?? []) for (const p of t.partitions) answers.set(partKey(t.topic, p.partitionIndex), p);
  };
  const jobs: Promise<void>[] = [];
  if (routes.local.length > 0) jobs.push(Promise.resolve(api.handler(sub(routes.local), ctx)).then(collect));
  for (const { broker, topics } of routes.remote.values()) {
    jobs.push(
      forward(ctx, broker, api, sub(topics), { timeoutMs: waitMs + FORWARD_SLACK_MS }).then(collect, (err: unknown) => {
        ctx.log.debug({ err, leader: broker.id }, 'fetch forward failed');
        const code = forwardError(err, ErrorCode.NOT_LEADER_OR_FOLLOWER);
        for (const t of topics) for (const p of t.parts) answers.set(partKey(t.name, p.partition), empty(req, p.partition, code));
      }),
    );
  }
  for (const t of routes.none) for (const p of t.parts) answers.set(partKey(t.name, p.partition), empty(req, p.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER));
  await Promise.all(jobs);
  return answers;
}

export function routedFetch(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<Request, Response>;
  return {
    ...api,
    handler: async (req: Request, ctx) => {
      if (!routable(ctx) || ctx.apiVersion < FIRST_RECORD_BATCH_VERSION || (ctx.apiVersion >= 7 && req.sessionId !== 0)) {
        return local.handler(req, ctx);
      }
      const topics = req.topics.map((t) => ({ name: t.topic, parts: t.partitions }));
      const routes = routeByLeader(ctx, topics, (p) => p.partition, (topic) => mayOnTopic(ctx, 'consume', topic));
      if (onlyLocal(routes)) return local.handler(req, ctx);
      const deadline = Date.now() + Math.max(0, req.maxWaitMs);
      let answers = await pass(local, req, ctx, routes, 0);
      const done = (): boolean =>
        [...answers.values()].some((a) => a.errorCode !== ErrorCode.NONE || hasRecords(a)) || ctx.signal.aborted;
      while (!done()) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        answers = await pass(local, req, ctx, routes, Math.min(remaining, SLICE_MS));
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        sessionId: 0,
        responses: req.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => answers.get(partKey(t.topic, p.partition)) ?? empty(req, p.partition, ErrorCode.UNKNOWN_SERVER_ERROR)),
        })),
      };
    },
  };
}
