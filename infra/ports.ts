/** Ports of a broker container (the CLI defaults) and of the load balancer's TLS listeners. */
import { nodeConfigSchema } from '../runtime/config/schema.js';

const DEFAULTS = nodeConfigSchema.parse({});

/** The plain listeners a broker serves; the load balancer forwards both its plaintext and its TLS listeners here. */
export const BROKER_PORTS = { mqtt: DEFAULTS.mqttPort, ws: DEFAULTS.wsPort, kafka: DEFAULTS.kafkaPort, admin: DEFAULTS.adminPort } as const;

/**
 * The load balancer's TLS listeners: the ports a broker itself opens with `--tls-cert` (MQTTS, MQTT over secure
 * WebSocket on path /mqtt, Kafka SSL), so clients see the same ports everywhere. TLS ends at the load balancer
 * (the ACM certificate's key never leaves AWS) and each forwards to the broker's plain port of the protocol.
 */
export const TLS_PORTS = { mqtt: DEFAULTS.mqttTlsPort, wss: DEFAULTS.wssPort, kafka: DEFAULTS.kafkaTlsPort } as const;

/**
 * The broker-to-broker listeners, by config key, at their CLI defaults: every key named `internalPort` or
 * `<protocol>InternalPort` (`--internal-port`: Kafka requests a broker forwards to a partition's leader;
 * `--mqtt-internal-port`: MQTT messages passed between brokers). Open between brokers only, never to clients or
 * the load balancer. Derived from the schema so that a new one is opened (and tested) without a change here.
 */
export const INTERNAL_PORTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(DEFAULTS as Record<string, unknown>).filter(
    (entry): entry is [string, number] => /^([a-z]+Internal|internal)Port$/.test(entry[0]) && typeof entry[1] === 'number',
  ),
);

/** The health check both Docker and ECS run inside the container: GET /healthz on the admin port. */
export const HEALTHCHECK_SCRIPT =
  "fetch('http://127.0.0.1:'+(process.env.ROBUSTMQ_ADMIN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
