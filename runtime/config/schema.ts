/**
 * The node's configuration: one zod schema validates every source (flags, ROBUSTMQ_* env vars, --config file).
 * Each option's flag name is its kebab-case key; its env var is ROBUSTMQ_<FLAG_IN_CAPS> with dashes as underscores.
 */
import { z } from 'zod';
import { AUTH_MODES } from '../core/auth/types.js';
import { LOG_LEVELS } from '../logger.js';
import { parseFlushPolicy } from '../storage/flush.js';

const port = z.coerce
  .number({ error: 'must be a port number from 0 to 65535' })
  .int({ error: 'must be a port number from 0 to 65535' })
  .min(0, { error: 'must be a port number from 0 to 65535' })
  .max(65535, { error: 'must be a port number from 0 to 65535' });

const positiveInt = (what: string) =>
  z.coerce.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).positive({ error: `must be ${what}` });

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])]).transform((v) =>
  typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v),
);

/** Engines this build can run; `--storage` is checked against it. */
export const AVAILABLE_STORAGE = ['segment', 'memory', 's3'] as const;
export const AVAILABLE_META = ['embedded', 'dynamodb'] as const;

export const nodeConfigSchema = z.object({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('0.0.0.0'),
  mqttPort: port.default(1883),
  wsPort: port.default(8083),
  kafkaPort: port.default(9092),
  /** Host Kafka Metadata/FindCoordinator advertise; unset: the local address each client connected to. */
  advertisedHost: z.string().min(1).optional().describe('host Kafka clients are told to connect to (default: the address they dialled)'),
  advertisedPort: port.optional().describe('port Kafka clients are told to connect to (default: the port they dialled)'),
  /** Largest Kafka request frame accepted (Kafka socket.request.max.bytes); bigger frames close the connection. */
  kafkaMaxRequestBytes: positiveInt('a positive number of bytes')
    .max(104_857_600, { error: 'must be at most 104857600 (100 MiB)' })
    .default(104_857_600)
    .describe('largest Kafka request accepted, in bytes (at most 100 MiB)'),
  /** Security (runtime/core/auth). off: anyone connects, ACLs are not enforced, and a warning says so at start. */
  auth: z.enum(AUTH_MODES).default('off').describe('require user names/passwords (Kafka: SASL) and enforce ACLs: off | on'),
  /** What an ACL check answers when no rule matches (deny rules always win over allow rules). */
  aclNoMatch: z.enum(['allow', 'deny']).default('allow').describe('ACL decision when no rule matches (with --auth on): allow | deny'),
  /** Bearer token of the admin API; with auth on and none set, one is generated and logged once at start. */
  adminToken: z.string().min(16, { error: 'must be at least 16 characters' }).optional()
    .describe('admin API bearer token (with --auth on and unset: generated and logged at start)'),
  /** Read instead of --admin-token (Docker/Kubernetes secrets): the file's content, trailing newline dropped. */
  adminTokenFile: z.string().min(1).optional().describe('file holding the admin API bearer token (instead of --admin-token)'),
  /** Login floods (runtime/core/auth/login-guard.ts): failed logins one address may make per window before it is refused fast; 0 = no limit. */
  authMaxFailures: z.coerce.number().int().min(0).default(10).describe('failed logins per client address and window before further attempts are refused (0 = no limit)'),
  authFailureWindowMs: positiveInt('a positive number of milliseconds').default(60_000).describe('window of --auth-max-failures, ms'),
  /** A user created at start when no user of that name exists (the deployed stack's first login); password from the env. */
  initialUser: z.string().min(1).optional().describe('user created at start if missing; its password comes from ROBUSTMQ_INITIAL_USER_PASSWORD'),
  initialUserPassword: z.string().min(1).optional().describe('password of --initial-user (set it through the environment, not a flag)'),
  /** PBKDF2 iterations of the SCRAM credentials derived for new users (RFC 7677: at least 4096). */
  scramIterations: z.coerce.number().int().min(4096).max(1_000_000).default(4096).describe('SCRAM iterations for new users (>= 4096)'),
  /** TLS (runtime/tls.ts): certificate chain and key (PEM) enable the TLS listeners; a CA makes client certificates required. */
  tlsCert: z.string().min(1).optional().describe('PEM certificate chain: enables the TLS listeners (Kafka SSL, MQTTS, WSS)'),
  tlsKey: z.string().min(1).optional().describe('PEM private key of --tls-cert'),
  tlsCa: z.string().min(1).optional().describe('PEM CA bundle: clients must present a certificate it signed'),
  kafkaTlsPort: port.default(9093).describe('Kafka SSL / SASL_SSL port, open when --tls-cert is set (0 = pick a free port)'),
  /** false: only the TLS listeners open (needs --tls-cert). */
  plainListeners: bool.default(true).describe('open the plain-text listeners too (--no-plain-listeners: TLS only)'),
  /** Limits (runtime/core/limits.ts), shared by every protocol: connections beyond them are closed at once. */
  maxConnections: positiveInt('a positive integer').default(100_000).describe('client connections served at once, all protocols'),
  maxConnectionsPerIp: positiveInt('a positive integer').default(10_000).describe('client connections served at once per client IP'),
  /** A Kafka connection that completes no request (with auth on: no SASL authentication) in this time is closed. */
  kafkaHandshakeTimeoutMs: positiveInt('a positive number of milliseconds').default(10_000)
    .describe('ms a new Kafka connection has to send its first request (auth on: to authenticate)'),
  /** runtime/core/memory-guard.ts: above this RSS the broker stops reading from sockets until memory drains; 0 = off. */
  memoryHighWatermarkMb: z.coerce.number().int().min(0).default(0).describe('RSS in MiB above which reading from clients pauses (0 = off)'),
  adminPort: port.default(8080),
  storage: z.enum(AVAILABLE_STORAGE).default('segment'),
  /** Segment engine: a partition's active segment rolls at this size (bytes) or age (ms). */
  segmentBytes: positiveInt('a positive number of bytes').default(128 * 1024 * 1024).describe('segment engine: roll a segment at this size, in bytes'),
  segmentMs: positiveInt('a positive number of milliseconds').default(7 * 24 * 3600 * 1000).describe('segment engine: roll a segment at this age, in ms'),
  indexIntervalBytes: positiveInt('a positive number of bytes').default(4096).describe('segment engine: one sparse index entry every N bytes of log'),
  maxOpenFiles: positiveInt('a positive integer').default(1000).describe('segment engine: cap on open segment file descriptors'),
  meta: z.enum(AVAILABLE_META).default('embedded'),
  /** DynamoDB meta store (runtime/meta/dynamodb): endpoint URL; unset: AWS DynamoDB of the region. */
  dynamodbEndpoint: z.string().url().optional().describe('DynamoDB endpoint URL for --meta dynamodb (LocalStack, Alternator; default: AWS)'),
  /** Unset: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1. */
  dynamodbRegion: z
    .string()
    .min(1)
    .default(() => process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1')
    .describe('DynamoDB region (default: AWS_REGION or us-east-1)'),
  /** The meta table is `<prefix>-meta`. */
  dynamodbTablePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,250}$/, { error: 'must be 1-250 characters of A-Z a-z 0-9 _ . -' })
    .default('robustmq')
    .describe('prefix of the DynamoDB table names (<prefix>-meta)'),
  /** Create missing DynamoDB tables (on-demand billing, TTL) at startup; off: they must exist. */
  createTables: bool.default(true).describe('create missing DynamoDB tables at startup (on-demand billing, TTL)'),
  /** How often the DynamoDB meta store polls watched namespaces for other brokers' changes. */
  dynamodbPollMs: positiveInt('a positive number of milliseconds').default(1000).describe("ms between polls for other brokers' meta changes"),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Default durability policy of persistent engines: always | os | interval:MS. */
  flush: z
    .string()
    .default('always')
    .refine((v) => {
      try {
        parseFlushPolicy(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be always, os or interval:MS'),
  defaultPartitions: positiveInt('a positive integer').default(1),
  /** Default topic retention; -1 keeps data forever. 604800000 = 7 days, Kafka's default. */
  retentionMs: z.coerce.number().int().min(-1).default(604_800_000),
  retentionBytes: z.coerce.number().int().min(-1).default(-1),
  retentionCheckMs: positiveInt('a positive number of milliseconds').default(300_000),
  /** Largest record batch accepted (Kafka message.max.bytes): 1 MiB of value plus room for record and batch headers. */
  maxMessageBytes: positiveInt('a positive number of bytes').default(1_048_576 + 1024),
  autoCreateTopics: bool.default(true),
  /** Seconds allowed for graceful shutdown before the process exits anyway. */
  shutdownTimeoutMs: positiveInt('a positive number of milliseconds').default(10_000),
  /** Consumer groups (Kafka group.initial.rebalance.delay.ms): the first join of an empty group waits this long for more members. */
  groupInitialRebalanceDelayMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(300_000)
    .default(3000)
    .describe('ms the first rebalance of an empty consumer group waits for more members'),
  /** Consumer groups (group.min.session.timeout.ms / group.max.session.timeout.ms): accepted session timeouts. */
  groupMinSessionTimeoutMs: positiveInt('a positive number of milliseconds').default(6000).describe('smallest consumer session timeout accepted, ms'),
  groupMaxSessionTimeoutMs: positiveInt('a positive number of milliseconds').default(1_800_000).describe('largest consumer session timeout accepted, ms'),
  /** MQTT: largest packet accepted from (and advertised to) clients, in bytes. */
  mqttMaxPacketSize: positiveInt('a positive number of bytes').max(268_435_455).default(1_048_576),
  /** MQTT: connections (TCP + WebSocket) served at once; more are refused. */
  mqttMaxConnections: positiveInt('a positive integer').default(100_000),
  /** MQTT: QoS 1/2 messages in flight to a client that states no Receive Maximum (3.1.1, or 5 without it). */
  mqttMaxInflight: positiveInt('a positive integer').max(65_535).default(32),
  /** MQTT: messages queued per session (offline, or beyond the in-flight window); oldest QoS 0 dropped first. */
  mqttSessionQueueLimit: positiveInt('a positive integer').default(1000),
  /** MQTT: interval of the $SYS/broker statistics; 0 disables them. */
  mqttSysIntervalMs: z.coerce.number().int().min(0).default(10_000),
  /** MQTT 5 Server Keep Alive in seconds, overriding the client's; 0 = use the client's keep alive. */
  mqttServerKeepAlive: z.coerce.number().int().min(0).max(65_535).default(0),
  /** MQTT: highest QoS granted to subscriptions and accepted from publishers. */
  mqttMaxQos: z.coerce.number().int().min(0).max(2).default(2),
  /** MQTT 5 Topic Alias Maximum: topic aliases a client may set on this server. */
  mqttTopicAliasMaximum: z.coerce.number().int().min(0).max(65_535).default(100),
  /** MQTT over TLS (MQTTS) and MQTT over secure WebSocket (path /mqtt), open when --tls-cert is set. */
  mqttTlsPort: port.default(8883).describe('MQTTS port, open when --tls-cert is set (0 = pick a free port)'),
  wssPort: port.default(8084).describe('MQTT over secure WebSocket port (path /mqtt), open when --tls-cert is set (0 = pick a free port)'),
  /** An MQTT connection that sends no complete CONNECT in this time is closed; also the TLS handshake's limit. */
  mqttConnectTimeoutMs: positiveInt('a positive number of milliseconds').default(10_000)
    .describe('ms a new MQTT connection has to send its CONNECT (and to finish the TLS handshake)'),
  /** Per connection; above it the broker stops reading from that client until it is back under the rate. 0 = off. */
  mqttMaxPublishRate: z.coerce.number().int().min(0).default(0).describe('PUBLISH packets per second read from one MQTT connection (0 = no limit)'),
  /** Subscriptions one MQTT session may hold; more are refused in SUBACK (v5 0x97 Quota exceeded, 3.1.1 0x80). 0 = no limit. */
  mqttMaxSubscriptions: z.coerce.number().int().min(0).default(10_000).describe('subscriptions one MQTT client may hold (0 = no limit)'),
  /** S3 engine (runtime/storage/s3): bucket holding the objects; setting it enables the engine. */
  s3Bucket: z.string().min(1).optional().describe('S3 bucket of the s3 storage engine (enables it)'),
  /** S3-compatible endpoint URL (LocalStack, MinIO, s3rver); unset: AWS S3 of the region. */
  s3Endpoint: z.string().url().optional().describe('S3 endpoint URL (default: AWS S3)'),
  /** Unset: the AWS SDK's region chain (AWS_REGION, profile). */
  s3Region: z.string().min(1).optional().describe('S3 region (default: the AWS SDK region chain)'),
  s3Prefix: z.string().min(1).default('robustmq').describe('key prefix of the objects and their metadata'),
  /** A broker writes one object per flush: at most every s3FlushMs, sooner when s3FlushBytes are buffered. */
  s3FlushMs: positiveInt('a positive number of milliseconds').default(250).describe('longest time an append waits for its object, ms'),
  s3FlushBytes: positiveInt('a positive number of bytes').default(8 * 1024 * 1024).describe('bytes buffered that start a flush at once'),
  s3CacheMb: positiveInt('a positive number of MiB').default(256).describe('memory bound of the S3 read cache, MiB'),
  /** Path-style URLs (http://host/bucket/key), needed by s3rver, MinIO and LocalStack. */
  s3ForcePathStyle: bool.default(false).describe('path-style S3 URLs (s3rver, MinIO, LocalStack)'),
  /** An append not committed within this many ms fails with a retriable STORAGE_UNAVAILABLE. */
  s3AppendTimeoutMs: positiveInt('a positive number of milliseconds').default(10_000).describe('ms before an uncommitted append fails (retriable)'),
  /** Cluster (runtime/cluster, `robustmq broker`): this broker's id; unset: `<hostname>-<random>`, new on every start. */
  brokerId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, { error: 'must be 1-128 characters of A-Z a-z 0-9 _ . : -' })
    .optional()
    .describe("this broker's id in the cluster (default: hostname plus a random suffix)"),
  /** Kafka node id of this broker; unset: the broker id when it is a number, else a hash of it. */
  nodeId: z.coerce.number().int().min(1).max(2_147_483_647).optional().describe('Kafka node id of this broker (default: derived from --broker-id)'),
  /** Address other brokers (and, without --advertised-host, Kafka clients) reach this broker at. */
  internalHost: z.string().min(1).optional().describe('address other brokers reach this one at (default: --host, or the first non-loopback IPv4)'),
  /**
   * Cluster credential (runtime/cluster/peer-tls.ts): brokers prove it to each other in a TLS-PSK handshake on the
   * internal listeners. Required by `robustmq broker`; every broker of a cluster must have the same one.
   */
  clusterSecret: z.string().min(32, { error: 'must be at least 32 characters' }).optional()
    .describe('shared secret brokers authenticate each other with (at least 32 characters; prefer the env var or --cluster-secret-file)'),
  clusterSecretFile: z.string().min(1).optional().describe('file holding the cluster secret (instead of --cluster-secret)'),
  /** Broker-to-broker Kafka listener (forwarded requests); reachable only inside the cluster network. */
  internalPort: port.default(9094).describe('broker-to-broker listener port (0 = pick a free port)'),
  mqttInternalPort: port.default(9095).describe('broker-to-broker MQTT forwarding listener port (0 = pick a free port)'),
  /** A broker whose heartbeat has not renewed its lease for this long is dead; its partitions move. */
  clusterLeaseTtlMs: positiveInt('a positive number of milliseconds').min(1000, { error: 'must be at least 1000' }).default(6000)
    .describe('membership lease TTL, ms: a broker silent this long is replaced'),
  /** How often brokers and the scheduler look at membership and partition leadership. */
  clusterPollMs: positiveInt('a positive number of milliseconds').default(500).describe('ms between looks at cluster membership and leadership'),
  /** Scheduler: partitions moved per minute to balance load (moves of dead brokers' partitions are not limited). */
  clusterMovesPerMinute: z.coerce.number().int().min(0).default(6).describe('partition moves per minute when rebalancing onto new brokers'),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;

/** Options whose values are secrets: never logged. */
export const SECRET_KEYS = ['adminToken', 'clusterSecret', 'initialUserPassword'] as const;

/** The configuration with every secret replaced by '[redacted]', for logs. */
export function redactConfig(config: NodeConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) if (out[key] !== undefined) out[key] = '[redacted]';
  return out;
}

/** camelCase key → kebab-case flag name. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** camelCase key → ROBUSTMQ_ env var name. */
export function envName(key: string): string {
  return `ROBUSTMQ_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}
