/**
 * Names the scheduler shares with the CDK app (infra/), so the function's environment and the metrics that
 * Application Auto Scaling tracks cannot drift apart.
 */

/** Environment variables of the scheduler function (the MetaStore is configured by the usual ROBUSTMQ_* ones). */
export const SCHEDULER_ENV = {
  cluster: 'SCHEDULER_CLUSTER',
  service: 'SCHEDULER_SERVICE',
  loadBalancer: 'SCHEDULER_LOAD_BALANCER',
  minBrokers: 'SCHEDULER_MIN_BROKERS',
  maxBrokers: 'SCHEDULER_MAX_BROKERS',
  connectionsPerBroker: 'SCHEDULER_CONNECTIONS_PER_BROKER',
  idleMinutes: 'SCHEDULER_IDLE_MINUTES',
} as const;

/** The connections metric: average client connections per running broker, per broker service. */
export const CONNECTIONS_METRIC = {
  namespace: 'RobustMQ',
  name: 'ConnectionsPerBroker',
  dimension: 'Service',
} as const;
