/**
 * The environment of a broker task: config keys (runtime/config/schema.ts) set through their ROBUSTMQ_* variables,
 * so the names are derived by the same rule the CLI uses and a renamed key shows up in test/infra.
 */
import { envName } from '../runtime/config/schema.js';

export interface BrokerEnvironmentProps {
  readonly bucketName: string;
  readonly region: string;
  readonly tablePrefix: string;
  /** DNS name of the load balancer, advertised to Kafka clients. */
  readonly advertisedHost: string;
  /** Port advertised to Kafka clients; unset: the port they dialled. */
  readonly advertisedPort?: number;
  readonly flushIntervalMs: number;
  readonly retentionMs: number;
  readonly shutdownTimeoutMs: number;
}

/** Config key → value, before naming the variables. */
export function brokerConfig(props: BrokerEnvironmentProps): Record<string, string> {
  const config: Record<string, string> = {
    storage: 's3',
    meta: 'dynamodb',
    s3Bucket: props.bucketName,
    s3Region: props.region,
    dynamodbRegion: props.region,
    dynamodbTablePrefix: props.tablePrefix,
    // The stack creates the tables; brokers only use them.
    createTables: 'false',
    advertisedHost: props.advertisedHost,
    s3FlushMs: String(props.flushIntervalMs),
    retentionMs: String(props.retentionMs),
    shutdownTimeoutMs: String(props.shutdownTimeoutMs),
    dataDir: '/data',
    logLevel: 'info',
  };
  if (props.advertisedPort !== undefined) config.advertisedPort = String(props.advertisedPort);
  return config;
}

export function toEnvironment(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [envName(key), value]));
}
