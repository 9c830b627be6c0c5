/** Prometheus metrics of one node, served at GET /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ProtocolName = 'mqtt' | 'kafka' | 'admin';

export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge<'protocol'>;
  readonly messagesIn: Counter<'protocol'>;
  readonly messagesOut: Counter<'protocol'>;
  readonly bytesIn: Counter<'protocol'>;
  readonly bytesOut: Counter<'protocol'>;
  readonly appendLatency: Histogram<'engine'>;
  readonly droppedMessages: Counter<'protocol' | 'reason'>;
  /** Connections to an internal (broker-to-broker) listener refused for lacking the cluster credential. */
  readonly peerAuthFailures: Counter<'listener'>;
  /** Client logins refused for wrong or missing credentials (runtime/core/auth). */
  readonly authFailures: Counter<'protocol'>;
  /** Client logins refused by the login guard without checking credentials (runtime/core/auth/login-guard.ts). */
  readonly authRefused: Counter<'protocol'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.connections = new Gauge({
      name: 'robustmq_connections',
      help: 'Open client connections',
      labelNames: ['protocol'],
      registers,
    });
    this.messagesIn = new Counter({
      name: 'robustmq_messages_received_total',
      help: 'Messages (MQTT publishes, Kafka records) received from clients',
      labelNames: ['protocol'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'robustmq_messages_sent_total',
      help: 'Messages (MQTT publishes, Kafka records) sent to clients',
      labelNames: ['protocol'],
      registers,
    });
    this.bytesIn = new Counter({
      name: 'robustmq_bytes_received_total',
      help: 'Bytes read from client connections',
      labelNames: ['protocol'],
      registers,
    });
    this.bytesOut = new Counter({
      name: 'robustmq_bytes_sent_total',
      help: 'Bytes written to client connections',
      labelNames: ['protocol'],
      registers,
    });
    this.appendLatency = new Histogram({
      name: 'robustmq_storage_append_seconds',
      help: 'Latency of storage appends until durable by the engine policy',
      labelNames: ['engine'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.droppedMessages = new Counter({
      name: 'robustmq_messages_dropped_total',
      help: 'Messages dropped (queue limits, expiry)',
      labelNames: ['protocol', 'reason'],
      registers,
    });
    this.peerAuthFailures = new Counter({
      name: 'robustmq_peer_auth_failures_total',
      help: 'Connections to a broker-to-broker listener refused: no or a wrong cluster credential',
      labelNames: ['listener'],
      registers,
    });
    for (const listener of ['kafka-internal', 'mqtt-internal'] as const) this.peerAuthFailures.inc({ listener }, 0);
    this.authFailures = new Counter({
      name: 'robustmq_auth_failures_total',
      help: 'Client logins refused for wrong or missing credentials (bad password, unknown user, bad SCRAM proof)',
      labelNames: ['protocol'],
      registers,
    });
    this.authRefused = new Counter({
      name: 'robustmq_auth_refused_total',
      help: 'Client logins refused without checking credentials: too many failures from the address (--auth-max-failures)',
      labelNames: ['protocol'],
      registers,
    });
    for (const protocol of ['mqtt', 'kafka'] as const) {
      this.authFailures.inc({ protocol }, 0);
      this.authRefused.inc({ protocol }, 0);
      this.connections.set({ protocol }, 0);
      this.messagesIn.inc({ protocol }, 0);
      this.messagesOut.inc({ protocol }, 0);
      this.bytesIn.inc({ protocol }, 0);
      this.bytesOut.inc({ protocol }, 0);
    }
  }
}
