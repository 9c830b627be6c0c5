/** A loopback cluster for MQTT tests: dynalite + s3rver, one `meta` and three `broker` processes, and their clients. */
import type { MqttClient } from 'mqtt';
import type { RouteEntry } from '../../runtime/cluster/mqtt-routes.js';
import { startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from './cluster.js';
import { connectClient, endAll, sleep } from './mqtt.js';

export class MqttCluster {
  readonly brokers = new Map<string, Child>();
  readonly clients: MqttClient[] = [];
  infra!: ClusterInfra;
  private meta: Child | undefined;

  async start(name: string, brokerFlags: Record<string, string | number> = {}): Promise<void> {
    this.infra = await startInfra(name);
    this.meta = await startMeta(this.infra);
    for (const id of ['b1', 'b2', 'b3']) this.brokers.set(id, await startBrokerProcess(this.infra, id, brokerFlags));
  }

  url(id: string): string {
    return `mqtt://127.0.0.1:${this.brokers.get(id)!.ports.mqtt}`;
  }

  /** An mqtt.js client of broker `id`, ended with the cluster. */
  async client(id: string, options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> {
    const c = await connectClient(this.url(id), options);
    this.clients.push(c);
    return c;
  }

  /** Waits until `brokerId`'s route entry lists `filter`, then for the other brokers' next poll. */
  async routed(brokerId: string, filter: string): Promise<void> {
    const store = await this.infra.meta();
    await until(async () => ((await store.get<RouteEntry>('mqtt-routes', brokerId))?.value.filters.includes(filter) ? true : undefined), 10_000);
    await sleep(700);
  }

  async close(): Promise<void> {
    await endAll(...this.clients);
    const children = [...this.brokers.values(), ...(this.meta ? [this.meta] : [])];
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await this.infra?.close();
  }
}
