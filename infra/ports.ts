/** Ports of a broker container (the CLI defaults) and of the load balancer's TLS listeners. */
export const BROKER_PORTS = { mqtt: 1883, ws: 8083, kafka: 9092, admin: 8080 } as const;
export const TLS_PORTS = { mqtt: 8883, kafka: 9093 } as const;

/** The health check both Docker and ECS run inside the container: GET /healthz on the admin port. */
export const HEALTHCHECK_SCRIPT =
  "fetch('http://127.0.0.1:'+(process.env.ROBUSTMQ_ADMIN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
