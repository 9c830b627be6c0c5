/**
 * Produce in a cluster: partitions this broker leads are appended here; the others are sent to their leaders in
 * one Produce per leader (same acks and timeout) and the answers merged in request order. A partition without a
 * live leader, or whose leader cannot be reached, gets NOT_LEADER_OR_FOLLOWER (clients retry after refreshing
 * metadata); a forward whose outcome is unknown gets REQUEST_TIMED_OUT (an idempotent producer's retry is then
 * recognised as a duplicate by the leader).
 */
import { mayOnTopic } from '../authz.js';
import type { AnyKafkaApi, KafkaApi } from '../apis/types.js';
import { ErrorCode } from '../errors.js';
import type { Request, Response } from '../messages/produce.js';
import { forward, forwardError, FORWARD_SLACK_MS } from './forward.js';
import { onlyLocal, partKey, routable, routeByLeader, type TopicPart } from './routes.js';

type PartitionData = Request['topicData'][number]['partitionData'][number];
type PartitionResponse = Response['responses'][number]['partitionResponses'][number];

function failed(index: number, errorCode: number, errorMessage: string): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

function subRequest(req: Request, topics: TopicPart<PartitionData>[]): Request {
  return { ...req, topicData: topics.map((t) => ({ name: t.name, partitionData: t.parts })) };
}

export function routedProduce(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<Request, Response>;
  return {
    ...api,
    handler: async (req: Request, ctx) => {
      if (!routable(ctx) || req.transactionalId !== null) return local.handler(req, ctx);
      const topics = req.topicData.map((t) => ({ name: t.name, parts: t.partitionData }));
      const routes = routeByLeader(ctx, topics, (p) => p.index, (topic) => mayOnTopic(ctx, 'produce', topic));
      if (onlyLocal(routes)) return local.handler(req, ctx);
      const answers = new Map<string, PartitionResponse>();
      const collect = (res: Response | null): void => {
        for (const t of res?.responses ?? []) for (const p of t.partitionResponses) answers.set(partKey(t.name, p.index), p);
      };
      const jobs: Promise<void>[] = [];
      if (routes.local.length > 0) jobs.push(Promise.resolve(local.handler(subRequest(req, routes.local), ctx)).then(collect));
      for (const { broker, topics: part } of routes.remote.values()) {
        const sub = subRequest(req, part);
        const timeoutMs = Math.max(0, req.timeoutMs) + FORWARD_SLACK_MS;
        jobs.push(
          forward(ctx, broker, local, sub, { expectResponse: req.acks !== 0, timeoutMs }).then(collect, (err: unknown) => {
            ctx.log.debug({ err, leader: broker.id }, 'produce forward failed');
            const code = forwardError(err);
            for (const t of part) for (const p of t.parts) answers.set(partKey(t.name, p.index), failed(p.index, code, `leader ${broker.id}: ${(err as Error).message}`));
          }),
        );
      }
      for (const t of routes.none) {
        for (const p of t.parts) answers.set(partKey(t.name, p.index), failed(p.index, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'no live leader; retry'));
      }
      await Promise.all(jobs);
      if (req.acks === 0) return null;
      return {
        responses: req.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map(
            (p) => answers.get(partKey(t.name, p.index)) ?? failed(p.index, ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'),
          ),
        })),
        throttleTimeMs: 0,
      };
    },
  };
}
