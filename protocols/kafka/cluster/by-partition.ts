/**
 * The shape shared by requests addressed to partitions and answered per partition (ListOffsets, DeleteRecords,
 * OffsetForLeaderEpoch): split by leader, serve the local share here, forward each remote share to its leader,
 * answer in request order. A partition with no live or reachable leader gets NOT_LEADER_OR_FOLLOWER.
 */
import type { AclAction } from '../../../runtime/core/auth/types.js';
import { mayOnTopic } from '../authz.js';
import type { AnyKafkaApi, KafkaApi } from '../apis/types.js';
import { ErrorCode } from '../errors.js';
import { forward, forwardError, FORWARD_SLACK_MS } from './forward.js';
import { onlyLocal, partKey, routable, routeByLeader, type TopicPart } from './routes.js';

export interface PartitionShape<Req, Res, Part, Answer> {
  /** ACL action the topic needs (checked here; refused topics are answered by the local handler). */
  readonly action: AclAction;
  readonly timeoutMs: (req: Req) => number;
  topics(req: Req): Array<{ name: string; parts: Part[] }>;
  index(part: Part): number;
  /** The request narrowed to `topics`. */
  narrow(req: Req, topics: TopicPart<Part>[]): Req;
  /** Every answer of a response, with its topic. */
  answers(res: Res): Array<{ topic: string; answer: Answer }>;
  answerIndex(answer: Answer): number;
  failed(part: Part, code: number): Answer;
  /** The response to `req` from the answers, in request order. */
  assemble(req: Req, answerOf: (topic: string, part: Part) => Answer): Res;
}

export function routedByPartition<Req, Res, Part, Answer>(api: AnyKafkaApi, shape: PartitionShape<Req, Res, Part, Answer>): AnyKafkaApi {
  const local = api as KafkaApi<Req, Res>;
  return {
    ...api,
    handler: async (req: Req, ctx) => {
      if (!routable(ctx)) return local.handler(req, ctx);
      const routes = routeByLeader(ctx, shape.topics(req), (p) => shape.index(p), (topic) => mayOnTopic(ctx, shape.action, topic));
      if (onlyLocal(routes)) return local.handler(req, ctx);
      const answers = new Map<string, Answer>();
      const collect = (res: Res | null): void => {
        if (res) for (const { topic, answer } of shape.answers(res)) answers.set(partKey(topic, shape.answerIndex(answer)), answer);
      };
      const fail = (topics: TopicPart<Part>[], code: number): void => {
        for (const t of topics) for (const p of t.parts) answers.set(partKey(t.name, shape.index(p)), shape.failed(p, code));
      };
      const jobs: Promise<void>[] = [];
      if (routes.local.length > 0) jobs.push(Promise.resolve(local.handler(shape.narrow(req, routes.local), ctx)).then(collect));
      for (const { broker, topics } of routes.remote.values()) {
        const timeoutMs = shape.timeoutMs(req) + FORWARD_SLACK_MS;
        jobs.push(
          forward(ctx, broker, local, shape.narrow(req, topics), { timeoutMs }).then(collect, (err: unknown) =>
            fail(topics, forwardError(err, ErrorCode.NOT_LEADER_OR_FOLLOWER)),
          ),
        );
      }
      fail(routes.none, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      await Promise.all(jobs);
      return shape.assemble(req, (topic, p) => answers.get(partKey(topic, shape.index(p))) ?? shape.failed(p, ErrorCode.UNKNOWN_SERVER_ERROR));
    },
  };
}
