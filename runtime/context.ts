/** What a protocol front-end receives from the node: the core services, never sockets of other protocols. */
import type { NodeConfig } from './config/schema.js';
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
}

/** A protocol front-end (MQTT, Kafka): owns its listeners and connections. */
export interface ProtocolServer {
  readonly name: string;
  /** Starts listening; resolves with the bound port of each listener, e.g. `{ mqtt: 1883, ws: 8083 }`. */
  listen(): Promise<Record<string, number>>;
  /** Stops accepting, finishes in-flight work, closes connections. */
  close(): Promise<void>;
}
