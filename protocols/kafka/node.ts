/**
 * Node-wide Kafka state, shared by every connection of one Kafka server: identity (node id, cluster id), the API
 * table, and lazily created services that other parts of the front-end keep per node (`shared`), such as the
 * group coordinator or the idempotent-producer state.
 */
import type { AnyKafkaApi } from './apis/types.js';

export class KafkaNode {
  private readonly services = new Map<string, unknown>();
  private readonly closers: Array<() => Promise<void> | void> = [];

  constructor(
    /** This broker's id in Metadata (single node: 0). */
    readonly nodeId: number,
    /** Kafka cluster id, stable across restarts (kept in the MetaStore). */
    readonly clusterId: string,
    readonly apis: readonly AnyKafkaApi[],
  ) {}

  api(key: number): AnyKafkaApi | undefined {
    return this.apis.find((a) => a.apiKey === key);
  }

  /**
   * The node's single instance of a service, created on first use. `close`, when given, runs when the Kafka
   * server stops (in reverse creation order).
   */
  shared<T>(key: string, create: () => T, close?: (service: T) => Promise<void> | void): T {
    if (!this.services.has(key)) {
      const service = create();
      this.services.set(key, service);
      if (close) this.closers.push(() => close(service));
    }
    return this.services.get(key) as T;
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    this.closers.length = 0;
    this.services.clear();
  }
}
