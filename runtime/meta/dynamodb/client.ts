/** The DynamoDB client the meta store uses: the SDK's standard retry mode, bounded timeouts, kept-alive sockets. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

export interface DynamoClientOptions {
  readonly region: string;
  /** Another endpoint than AWS's (LocalStack, ScyllaDB Alternator, dynalite). */
  readonly endpoint?: string;
  /** @default the SDK's default provider chain (env, profile, container/instance role) */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  /**
   * Attempts per request, first included, for throttling, 5xx, timeouts and connection resets; the SDK backs off
   * exponentially with full jitter (100 ms base, 500 ms when throttled, 20 s cap). @default 8
   */
  readonly maxAttempts?: number;
  /** A request (send to last response byte) taking longer fails that attempt with TimeoutError. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** @default 3000 */
  readonly connectTimeoutMs?: number;
}

export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const agent = { keepAlive: true, maxSockets: 64 };
  return new DynamoDBClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    retryMode: 'standard',
    maxAttempts: options.maxAttempts ?? 8,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 5000,
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
}
