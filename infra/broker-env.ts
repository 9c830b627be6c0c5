/**
 * The environment of the broker and meta tasks: config keys (runtime/config/schema.ts) set through their ROBUSTMQ_*
 * variables, so the names are derived by the same rule the CLI uses and a renamed key shows up in test/infra.
 *
 * `internalHost` is left unset on purpose: a task's address is only known when it starts, and `robustmq broker`
 * then takes the first non-loopback IPv4 address, which on Fargate (awsvpc) is the task's own network interface —
 * the address the other brokers reach it at inside the VPC.
 *
 * Secrets (cluster secret, admin token, the initial user's password) are never part of this environment: they reach
 * the container as ECS secrets (infra/secrets.ts), so neither the template nor the task definition holds a value.
 */
import { envName } from '../runtime/config/schema.js';
import { INTERNAL_PORTS } from './ports.js';

/** Where the shared metadata is: the stack's DynamoDB table, which the stack creates (tasks only use it). */
export interface MetaEnvironmentProps {
  readonly region: string;
  readonly tablePrefix: string;
  readonly shutdownTimeoutMs: number;
}

export interface BrokerEnvironmentProps extends MetaEnvironmentProps {
  readonly bucketName: string;
  /** DNS name of the load balancer, advertised to Kafka clients. */
  readonly advertisedHost: string;
  /** Port advertised to Kafka clients; unset: the port they dialled. */
  readonly advertisedPort?: number;
  readonly flushIntervalMs: number;
  readonly retentionMs: number;
  /** Whether clients must log in and ACLs are enforced (`--auth on`). */
  readonly auth: boolean;
  /** User the broker creates at start when missing (its password is an ECS secret). @default none */
  readonly initialUser?: string;
}

/** Config key → value of a `robustmq meta` task. */
export function metaConfig(props: MetaEnvironmentProps): Record<string, string> {
  return {
    meta: 'dynamodb',
    dynamodbRegion: props.region,
    dynamodbTablePrefix: props.tablePrefix,
    // The stack creates the tables; tasks only use them.
    createTables: 'false',
    shutdownTimeoutMs: String(props.shutdownTimeoutMs),
    logLevel: 'info',
  };
}

/** Config key → value of a `robustmq broker` task, before naming the variables. */
export function brokerConfig(props: BrokerEnvironmentProps): Record<string, string> {
  const config: Record<string, string> = {
    ...metaConfig(props),
    storage: 's3',
    s3Bucket: props.bucketName,
    s3Region: props.region,
    advertisedHost: props.advertisedHost,
    // Fixed, because the security group opens exactly these ports between brokers.
    ...Object.fromEntries(Object.entries(INTERNAL_PORTS).map(([key, port]) => [key, String(port)])),
    s3FlushMs: String(props.flushIntervalMs),
    retentionMs: String(props.retentionMs),
    dataDir: '/data',
  };
  if (props.advertisedPort !== undefined) config.advertisedPort = String(props.advertisedPort);
  // auth off is the broker's default: the opt-out sets nothing.
  if (props.auth) config.auth = 'on';
  if (props.initialUser !== undefined) config.initialUser = props.initialUser;
  return config;
}

export function toEnvironment(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [envName(key), value]));
}
