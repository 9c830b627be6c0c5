/**
 * Consumer groups in a cluster: each group has one coordinator, its owner (runtime/cluster/ownership.ts), which
 * keeps the membership in memory. Requests about a group that reach another broker (one advertised address, or
 * a client with stale metadata) are forwarded whole to the owner and its answer relayed. Requests naming several
 * groups (DescribeGroups, DeleteGroups) are split by owner. OffsetFetch and ListGroups stay local: offsets live
 * in the MetaStore, which every broker reads.
 *
 * No live owner: COORDINATOR_NOT_AVAILABLE; the owner unreachable: NOT_COORDINATOR — both send clients back to
 * FindCoordinator, which answers from the membership as it is by then.
 */
import type { BrokerLeaseValue } from '../../../runtime/cluster/records.js';
import { mayOnGroup } from '../authz.js';
import type { AnyKafkaApi, KafkaApi, KafkaRequestContext } from '../apis/types.js';
import { ErrorCode } from '../errors.js';
import type { Request as DeleteRequest, Response as DeleteResponse } from '../apis/groups/messages/delete-groups.js';
import type { Request as DescribeRequest, Response as DescribeResponse } from '../apis/groups/messages/describe-groups.js';
import { forward, FORWARD_SLACK_MS } from './forward.js';
import { routable } from './routes.js';

/** How long a forwarded group request may take, beyond the timeouts it names itself. */
const GROUP_TIMEOUT_MS = 30_000;

interface GroupRequest {
  groupId: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
}

function errorAnswer(api: AnyKafkaApi, req: unknown, code: number, ctx: KafkaRequestContext): unknown {
  if (api.errorResponse) return api.errorResponse(req, code as ErrorCode, ctx);
  // Heartbeat and LeaveGroup answer with a top-level error code (LeaveGroup v3+ also lists members: none here).
  return { throttleTimeMs: 0, errorCode: code, members: [] };
}

/** JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit: the whole request goes to the group's owner. */
export function routedByGroup(api: AnyKafkaApi): AnyKafkaApi {
  return {
    ...api,
    handler: async (req: GroupRequest, ctx) => {
      if (!routable(ctx)) return api.handler(req, ctx);
      // The owner decides the ACLs of what it is sent (the group's and, for OffsetCommit, each topic's).
      const owner = ctx.broker.cluster!.ownerOf(req.groupId);
      if (owner.kind === 'local') return api.handler(req, ctx);
      if (owner.kind === 'none') {
        if (!mayOnGroup(ctx, 'consume', req.groupId)) return api.handler(req, ctx);
        return errorAnswer(api, req, ErrorCode.COORDINATOR_NOT_AVAILABLE, ctx);
      }
      const waits = Math.max(req.sessionTimeoutMs ?? 0, req.rebalanceTimeoutMs ?? 0);
      try {
        return await forward(ctx, owner.broker, api, req, { timeoutMs: Math.max(GROUP_TIMEOUT_MS, waits + FORWARD_SLACK_MS) });
      } catch (err) {
        ctx.log.debug({ err, owner: owner.broker.id, api: api.name }, 'group request forward failed');
        return errorAnswer(api, req, ErrorCode.NOT_COORDINATOR, ctx);
      }
    },
  };
}

/** Splits `groups` by owner; runs `serve` locally or remotely for each share; answers in the original order. */
async function byOwner<T extends { groupId: string }>(
  ctx: KafkaRequestContext,
  groups: string[],
  serve: (share: string[], to: 'local' | BrokerLeaseValue) => Promise<T[]>,
  failed: (groupId: string, code: number) => T,
): Promise<T[]> {
  const cluster = ctx.broker.cluster!;
  const shares = new Map<string, { to: 'local' | BrokerLeaseValue; groups: string[] }>();
  const answers = new Map<string, T>();
  for (const g of groups) {
    let owner = cluster.ownerOf(g);
    // Without an owner, a group the client may not see is refused here rather than retried.
    if (owner.kind === 'none' && !mayOnGroup(ctx, 'consume', g)) owner = { kind: 'local' };
    if (owner.kind === 'none') answers.set(g, failed(g, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    else {
      const key = owner.kind === 'local' ? '' : owner.broker.id;
      let share = shares.get(key);
      if (!share) shares.set(key, (share = { to: owner.kind === 'local' ? 'local' : owner.broker, groups: [] }));
      share.groups.push(g);
    }
  }
  await Promise.all(
    [...shares.values()].map(async ({ to, groups: share }) => {
      try {
        for (const a of await serve(share, to)) answers.set(a.groupId, a);
      } catch {
        for (const g of share) answers.set(g, failed(g, ErrorCode.NOT_COORDINATOR));
      }
    }),
  );
  return groups.map((g) => answers.get(g) ?? failed(g, ErrorCode.NOT_COORDINATOR));
}

export function routedDescribeGroups(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<DescribeRequest, DescribeResponse>;
  type Described = DescribeResponse['groups'][number];
  const failed = (groupId: string, errorCode: number): Described => ({
    errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648,
  });
  return {
    ...api,
    handler: async (req: DescribeRequest, ctx) => {
      if (!routable(ctx)) return local.handler(req, ctx);
      const serve = async (share: string[], to: 'local' | BrokerLeaseValue): Promise<Described[]> => {
        const sub = { ...req, groups: share };
        const res = to === 'local' ? await local.handler(sub, ctx) : await forward(ctx, to, local, sub, { timeoutMs: GROUP_TIMEOUT_MS });
        return res?.groups ?? [];
      };
      return { throttleTimeMs: 0, groups: await byOwner(ctx, req.groups, serve, failed) };
    },
  };
}

export function routedDeleteGroups(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<DeleteRequest, DeleteResponse>;
  type Result = DeleteResponse['results'][number];
  return {
    ...api,
    handler: async (req: DeleteRequest, ctx) => {
      if (!routable(ctx)) return local.handler(req, ctx);
      const serve = async (share: string[], to: 'local' | BrokerLeaseValue): Promise<Result[]> => {
        const sub = { ...req, groupsNames: share };
        const res = to === 'local' ? await local.handler(sub, ctx) : await forward(ctx, to, local, sub, { timeoutMs: GROUP_TIMEOUT_MS });
        return res?.results ?? [];
      };
      return { throttleTimeMs: 0, results: await byOwner(ctx, req.groupsNames, serve, (groupId, errorCode) => ({ groupId, errorCode })) };
    },
  };
}
