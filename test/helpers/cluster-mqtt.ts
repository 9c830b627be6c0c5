/** A loopback cluster for MQTT tests: dynalite + s3rver, one `meta` and three `broker` processes, and their clients. */
import type { IClientOptions, MqttClient } from 'mqtt';
import type { RouteEntry } from '../../runtime/cluster/mqtt-routes.js';
import { startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from './cluster.js';
import { connectClient, endAll } from './mqtt.js';

export class MqttCluster {
  readonly brokers = new Map<string, Child>();
  readonly clients: MqttClient[] = [];
  infra!: ClusterInfra;
  private meta: Child | undefined;
  private probes = 0;
  /** Options every client of this helper connects with (credentials, with --auth on). */
  clientOptions: IClientOptions = {};

  /** `brokerFlags` go to every broker, `perBroker[id]` to broker `id` on top of them. */
  async start(
    name: string,
    brokerFlags: Record<string, string | number> = {},
    perBroker: Record<string, Record<string, string | number>> = {},
  ): Promise<void> {
    this.infra = await startInfra(name);
    this.meta = await startMeta(this.infra);
    for (const id of ['b1', 'b2', 'b3']) this.brokers.set(id, await startBrokerProcess(this.infra, id, { ...brokerFlags, ...perBroker[id] }));
  }

  url(id: string): string {
    return `mqtt://127.0.0.1:${this.brokers.get(id)!.ports.mqtt}`;
  }

  /** An mqtt.js client of broker `id`, ended with the cluster. */
  async client(id: string, options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> {
    const c = await connectClient(this.url(id), { ...this.clientOptions, ...options });
    this.clients.push(c);
    return c;
  }

  /** Brokers whose process is still running. */
  running(): string[] {
    return [...this.brokers].filter(([, b]) => b.child.exitCode === null && b.child.signalCode === null).map(([id]) => id);
  }

  /**
   * Waits until `brokerId`'s route entry lists `filter` and every other running broker forwards to `brokerId` what
   * matches it. A probe client on `brokerId` subscribes to a topic of its own, which enters the same route entry
   * after `filter` did (an entry lists all of a broker's filters and is read whole); once a QoS 1 probe published on
   * each other broker arrives, that broker has read an entry listing `filter` too and holds `brokerId` live. Probes
   * go to the probe client only (their topic matches no filter of the tests), so the tests' subscribers see none.
   */
  async routed(brokerId: string, filter: string, timeoutMs = 10_000): Promise<void> {
    const store = await this.infra.meta();
    await until(async () => ((await store.get<RouteEntry>('mqtt-routes', brokerId))?.value.filters.includes(filter) ? true : undefined), timeoutMs);
    const n = ++this.probes;
    const topic = `robustmq-test-probe/${n}/${brokerId}`;
    const others = this.running().filter((id) => id !== brokerId);
    const sub = await connectClient(this.url(brokerId), { ...this.clientOptions, clientId: `probe-${n}-sub` });
    const pubs: MqttClient[] = [];
    try {
      const arrived = new Set<string>();
      sub.on('message', (t, payload) => void (t === topic && arrived.add(payload.toString())));
      await sub.subscribeAsync(topic, { qos: 1 });
      for (const id of others) pubs.push(await connectClient(this.url(id), { ...this.clientOptions, clientId: `probe-${n}-pub-${id}` }));
      await until(
        async () => {
          const missing = others.filter((id) => !arrived.has(id));
          if (missing.length === 0) return true;
          await Promise.all(missing.map((id) => pubs[others.indexOf(id)].publishAsync(topic, id, { qos: 1 })));
          return undefined;
        },
        timeoutMs,
        100,
      );
    } finally {
      await endAll(sub, ...pubs);
    }
  }

  async close(): Promise<void> {
    await endAll(...this.clients);
    const children = [...this.brokers.values(), ...(this.meta ? [this.meta] : [])];
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await this.infra?.close();
  }
}
