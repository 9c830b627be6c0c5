/**
 * The cluster as the admin API (GET /api/v1/cluster) and `robustmq cluster status` show it from any broker: every
 * live broker with its address, load and the partitions it leads (with their epochs), plus partitions without a
 * live leader. The `nodes` rows keep the standalone shape (id, host, uptimeSeconds, connections, partitions).
 */
import type { BrokerContext } from '../context.js';
import type { ClusterBroker } from './broker.js';

export function clusterStatusOf(ctx: BrokerContext, cluster: ClusterBroker): unknown {
  const now = Date.now();
  const led = cluster.partitionsByBroker();
  const brokers = cluster.brokers();
  const live = new Set(brokers.map((b) => b.id));
  const leaderless = cluster.view
    .allLeadership()
    .filter((e) => !e.value.leader || !live.has(e.value.leader))
    .map((e) => ({ topic: e.value.topic, partition: e.value.partition, lastLeader: e.value.leader }));
  return {
    mode: 'cluster',
    meta: ctx.meta.kind,
    self: cluster.brokerId,
    advertise: cluster.advertise,
    nodes: brokers.map((b) => ({
      id: b.nodeId,
      brokerId: b.id,
      host: b.host,
      kafka: b.kafka,
      internal: b.internal,
      state: b.draining ? 'draining' : 'live',
      uptimeSeconds: Math.round((now - b.startedAt) / 1000),
      heartbeatAgeMs: now - b.heartbeatAt,
      connections: b.connections,
      cpu: b.cpu,
      partitions: led.get(b.id)?.length ?? 0,
      led: (led.get(b.id) ?? []).sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition),
    })),
    leaderless,
    topics: ctx.topics.list().length,
    defaultStorage: ctx.config.storage,
  };
}
