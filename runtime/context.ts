/** What a protocol front-end receives from the node: the core services, never sockets of other protocols. */
import type { ClusterHandle } from './cluster/types.js';
import type { NodeConfig } from './config/schema.js';
import type { TopicBridge } from './core/bridge/bridge.js';
import type { ClientRegistry } from './core/clients.js';
import type { TopicManager } from './core/topics.js';
import type { Logger } from './logger.js';
import type { MetaStore } from './meta/store.js';
import type { Metrics } from './metrics.js';

export interface BrokerContext {
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly meta: MetaStore;
  readonly topics: TopicManager;
  readonly metrics: Metrics;
  readonly clients: ClientRegistry;
  /** Present on a cluster broker (`robustmq broker`): partition leaders, group owners, peer connections. */
  readonly cluster?: ClusterHandle;
  /** Cross-protocol topics (Kafka topics bound to MQTT filters); the MQTT front-end attaches to it. */
  readonly bridge?: TopicBridge;
}

/** A protocol front-end (MQTT, Kafka): owns its listeners and connections. */
export interface ProtocolServer {
  readonly name: string;
  /** Starts listening; resolves with the bound port of each listener, e.g. `{ mqtt: 1883, ws: 8083 }`. */
  listen(): Promise<Record<string, number>>;
  /** Stops accepting, finishes in-flight work, closes connections. */
  close(): Promise<void>;
}
