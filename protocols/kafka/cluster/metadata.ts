/**
 * Metadata, FindCoordinator and DescribeCluster in a cluster. The local handlers answer first (topic lookup,
 * auto-creation, ACLs); then the cluster's view replaces who leads and coordinates:
 *
 * - advertise 'single' (--advertised-host: one load-balanced address): the cluster stays one node to clients, the
 *   node this connection reached; a partition without a live leader (failover under way) is reported
 *   LEADER_NOT_AVAILABLE so clients wait and ask again instead of producing into the gap.
 * - advertise 'brokers': every live broker is listed with its node id and address, each partition with its real
 *   leader, each group with its owner — Kafka's normal mode. Requests that still reach the wrong broker are
 *   forwarded.
 *
 * Leader epochs stay 0 on the wire: fencing is enforced between brokers and storage (runtime/cluster), and epoch 0
 * keeps every client's epoch checks (KIP-320) satisfied across moves.
 */
import type { BrokerLeaseValue } from '../../../runtime/cluster/records.js';
import type { AnyKafkaApi, KafkaApi, KafkaRequestContext } from '../apis/types.js';
import { ErrorCode } from '../errors.js';
import type { Request as ClusterRequest, Response as ClusterResponse } from '../messages/describe-cluster.js';
import type { Request, Response } from '../messages/metadata.js';
import type { Request as FindRequest, Response as FindResponse } from '../apis/groups/messages/find-coordinator.js';

function endpointOf(b: BrokerLeaseValue): { nodeId: number; host: string; port: number; rack: null } {
  return { nodeId: b.nodeId, host: b.kafka.host, port: b.kafka.port, rack: null };
}

function everyBroker(ctx: KafkaRequestContext): boolean {
  return ctx.broker.cluster?.advertise === 'brokers';
}

export function clusterMetadata(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<Request, Response>;
  return {
    ...api,
    handler: async (req: Request, ctx) => {
      const res = await local.handler(req, ctx);
      const cluster = ctx.broker.cluster;
      if (!res || !cluster) return res;
      const all = everyBroker(ctx);
      if (all) {
        const brokers = cluster.brokers().filter((b) => !b.draining || b.id === cluster.brokerId);
        if (brokers.length > 0) res.brokers = brokers.map(endpointOf);
      }
      for (const t of res.topics) {
        if (t.errorCode !== ErrorCode.NONE || t.name === null) continue;
        for (const p of t.partitions) {
          const { route } = cluster.leaderOf(t.name, p.partitionIndex);
          const leaderId = route.kind === 'none' ? -1 : !all ? ctx.connection.endpoint.nodeId : route.kind === 'local' ? cluster.nodeId : route.broker.nodeId;
          p.errorCode = leaderId < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE;
          p.leaderId = leaderId;
          p.replicaNodes = leaderId < 0 ? [] : [leaderId];
          p.isrNodes = leaderId < 0 ? [] : [leaderId];
        }
      }
      return res;
    },
  };
}

export function clusterFindCoordinator(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<FindRequest, FindResponse>;
  return {
    ...api,
    handler: async (req: FindRequest, ctx) => {
      const res = await local.handler(req, ctx);
      const cluster = ctx.broker.cluster;
      if (!res || !cluster || !everyBroker(ctx)) return res;
      const locate = (key: string): { nodeId: number; host: string; port: number } | undefined => {
        const owner = cluster.ownerOf(key);
        if (owner.kind === 'remote') return endpointOf(owner.broker);
        if (owner.kind === 'local') return ctx.connection.endpoint;
        return undefined;
      };
      if (ctx.apiVersion >= 4) {
        for (const c of res.coordinators) {
          if (c.errorCode !== ErrorCode.NONE) continue;
          const at = locate(c.key);
          if (at) Object.assign(c, { nodeId: at.nodeId, host: at.host, port: at.port });
          else Object.assign(c, { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'no live broker' });
        }
      } else if (res.errorCode === ErrorCode.NONE) {
        const at = locate(req.key);
        if (at) Object.assign(res, { nodeId: at.nodeId, host: at.host, port: at.port });
        else Object.assign(res, { nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'no live broker' });
      }
      return res;
    },
  };
}

export function clusterDescribeCluster(api: AnyKafkaApi): AnyKafkaApi {
  const local = api as KafkaApi<ClusterRequest, ClusterResponse>;
  return {
    ...api,
    handler: async (req: ClusterRequest, ctx) => {
      const res = await local.handler(req, ctx);
      const cluster = ctx.broker.cluster;
      if (!res || !cluster || !everyBroker(ctx) || res.errorCode !== ErrorCode.NONE) return res;
      const brokers = cluster.brokers().filter((b) => !b.draining || b.id === cluster.brokerId);
      if (brokers.length > 0) res.brokers = brokers.map((b) => ({ brokerId: b.nodeId, host: b.kafka.host, port: b.kafka.port, rack: null }));
      return res;
    },
  };
}
