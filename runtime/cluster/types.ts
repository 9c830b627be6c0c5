/**
 * What protocol front-ends see of the cluster (BrokerContext.cluster, present on `robustmq broker` only): who this
 * broker is, who leads each partition and owns each group, the live brokers, and connections to them.
 */
import type { PeerCredential } from './peer-tls.js';
import type { BrokerLeaseValue } from './records.js';
import type { PeerPool } from './transport.js';

/** Where a partition's requests go: here, another live broker, or nowhere yet (failover in progress). */
export type Route = { kind: 'local' } | { kind: 'remote'; broker: BrokerLeaseValue } | { kind: 'none' };

export interface ClusterHandle {
  readonly brokerId: string;
  /** This broker's Kafka node id (Metadata lists it when every broker is advertised). */
  readonly nodeId: number;
  /**
   * 'single': clients know one address (--advertised-host, a load balancer) standing for the whole cluster as one
   * node; 'brokers': Metadata lists every live broker and the real leader of each partition.
   */
  readonly advertise: 'single' | 'brokers';
  /** Live brokers, in id order (draining ones included). */
  brokers(): BrokerLeaseValue[];
  broker(id: string): BrokerLeaseValue | undefined;
  /** The leader of a partition, as this broker last saw it, with its fencing epoch (-1 when none). */
  leaderOf(topic: string, partition: number): { route: Route; epoch: number };
  /** The broker that coordinates a consumer group (or another key, e.g. a transactional id). */
  ownerOf(key: string): Route;
  /** Connections to the other brokers' internal listeners. */
  readonly peers: PeerPool;
  /** What this broker proves to its peers, and checks they prove (the cluster secret's key). */
  readonly credential: PeerCredential;
}
