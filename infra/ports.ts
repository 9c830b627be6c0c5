/** Ports of a broker container (the CLI defaults) and of the load balancer's TLS listeners. */
import { nodeConfigSchema } from '../runtime/config/schema.js';

export const BROKER_PORTS = { mqtt: 1883, ws: 8083, kafka: 9092, admin: 8080 } as const;
export const TLS_PORTS = { mqtt: 8883, kafka: 9093 } as const;

/**
 * The broker-to-broker listeners, by config key, at their CLI defaults: every key named `internalPort` or
 * `<protocol>InternalPort` (`--internal-port`: Kafka requests a broker forwards to a partition's leader;
 * `--mqtt-internal-port`: MQTT messages passed between brokers). Open between brokers only, never to clients or
 * the load balancer. Derived from the schema so that a new one is opened (and tested) without a change here.
 */
export const INTERNAL_PORTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(nodeConfigSchema.parse({}) as Record<string, unknown>).filter(
    (entry): entry is [string, number] => /^([a-z]+Internal|internal)Port$/.test(entry[0]) && typeof entry[1] === 'number',
  ),
);

/** The health check both Docker and ECS run inside the container: GET /healthz on the admin port. */
export const HEALTHCHECK_SCRIPT =
  "fetch('http://127.0.0.1:'+(process.env.ROBUSTMQ_ADMIN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
