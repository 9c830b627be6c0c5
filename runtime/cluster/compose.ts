/**
 * How runtime/node.ts becomes a cluster broker (`startNode(config, { role: 'broker' })`): checks the settings a
 * cluster needs, names the broker (its id also names its S3 write lease, and makes the S3 engine share the
 * prefix), gates the storage engines by leadership, and builds the ClusterBroker once the core exists.
 */
import type { NodeConfig } from '../config/schema.js';
import type { ClientRegistry } from '../core/clients.js';
import type { TopicManager } from '../core/topics.js';
import { RobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { StorageEngine, StorageKind } from '../storage/engine.js';
import { ClusterBroker } from './broker.js';
import { GatedEngine } from './gate.js';
import { clusterIdentity, type ClusterIdentity } from './identity.js';
import { peerCredential } from './peer-tls.js';

type Engines = Partial<Record<StorageKind, StorageEngine>>;

export interface ClusterPlan {
  /** The node's configuration with the broker id filled in. */
  readonly config: NodeConfig;
  readonly identity: ClusterIdentity;
  gate(engines: Engines): Partial<Record<StorageKind, GatedEngine>>;
  join(core: { meta: MetaStore; topics: TopicManager; clients: ClientRegistry; engines: Partial<Record<StorageKind, GatedEngine>> }): ClusterBroker;
}

export function planCluster(config: NodeConfig, log: Logger, onFatal: (reason: string) => void): ClusterPlan {
  if (config.meta !== 'dynamodb') {
    throw new RobustMQError('INVALID_ARGUMENT', 'robustmq broker needs a shared metadata store: --meta dynamodb');
  }
  if (config.clusterSecret === undefined) {
    throw new RobustMQError(
      'INVALID_ARGUMENT',
      'robustmq broker needs the cluster secret brokers authenticate each other with: ROBUSTMQ_CLUSTER_SECRET or --cluster-secret-file (the same on every broker, at least 32 characters)',
    );
  }
  if (config.auth === 'on' && config.adminToken === undefined) {
    // A token generated per process would differ from broker to broker: the cluster shares one.
    throw new RobustMQError('INVALID_ARGUMENT', 'robustmq broker --auth on needs the admin token the cluster shares: ROBUSTMQ_ADMIN_TOKEN or --admin-token-file');
  }
  const identity = clusterIdentity(config);
  const credential = peerCredential(identity.brokerId, config.clusterSecret);
  const effective: NodeConfig = { ...config, brokerId: identity.brokerId };
  let broker: ClusterBroker | undefined;
  const fenced = (err: Error): void => broker?.fenced(err);
  return {
    config: effective,
    identity,
    gate: (engines) => {
      const out: Partial<Record<StorageKind, GatedEngine>> = {};
      for (const [kind, engine] of Object.entries(engines) as Array<[StorageKind, StorageEngine]>) out[kind] = new GatedEngine(engine, fenced);
      if (!out.s3) log.warn('no S3 engine (--s3-bucket): partitions moved between brokers lose their data');
      return out;
    },
    join: (core) => {
      broker = new ClusterBroker({
        identity,
        credential,
        ...core,
        log: log.child({ component: 'cluster' }),
        leaseTtlMs: effective.clusterLeaseTtlMs,
        pollMs: effective.clusterPollMs,
        onFatal,
      });
      return broker;
    },
  };
}
