/**
 * The shape of one Kafka API as served here: its key, the versions we speak, its message descriptions and its
 * handler. The table in ./index.ts lists every API once; ApiVersions and request dispatch are both built from it.
 *
 * A handler gets the decoded request body and a context; it returns the response body (the codec encodes it for
 * the request's version), or `null` to send no response at all (Produce with acks=0). A handler that throws gets
 * `errorResponse` called, when the API defines it; otherwise the connection is closed with a log line.
 */
import type { BrokerContext } from '../../../runtime/context.js';
import type { AuthService } from '../../../runtime/core/auth/service.js';
import type { Logger } from '../../../runtime/logger.js';
import type { Struct } from '../codec/schema.js';
import type { ErrorCode } from '../errors.js';
import type { KafkaNode } from '../node.js';
import type { KafkaSession } from '../sasl/session.js';

/** Where clients reach this broker (Metadata brokers, FindCoordinator, DescribeCluster). */
export interface BrokerEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface KafkaConnectionInfo {
  /** Unique per connection within the node (the ClientRegistry id). */
  readonly id: number;
  readonly remoteAddress: string;
  /** This broker as advertised to this connection (config advertisedHost/Port, else the address it dialled). */
  readonly endpoint: BrokerEndpoint;
  /** A cluster peer forwarding a client's request (internal listener): served here, never forwarded again. */
  readonly internal?: boolean;
}

export interface KafkaRequestContext {
  /** Core services (topics, meta store, config, metrics). */
  readonly broker: BrokerContext;
  /** Node-wide Kafka state shared by all connections. */
  readonly kafka: KafkaNode;
  readonly connection: KafkaConnectionInfo;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Child logger with connection and request fields. */
  readonly log: Logger;
  /** Aborted when the connection closes or the server stops: long-polls must give up then. */
  readonly signal: AbortSignal;
  /** The node's users and ACLs (runtime/core/auth); check ACLs through ../authz.ts. */
  readonly auth: AuthService;
  /** This connection's authentication state and principal. */
  readonly session: KafkaSession;
}

export interface KafkaApi<Req, Res> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First version that uses the flexible encoding (KIP-482), or null when none does. */
  readonly flexibleVersion: number | null;
  readonly request: Struct<Req>;
  readonly response: Struct<Res>;
  handler(request: Req, ctx: KafkaRequestContext): Promise<Res | null> | Res | null;
  /**
   * The response that reports `error` for every part of `request`, used when the handler throws; null when the
   * request expects no response (Produce with acks=0).
   */
  errorResponse?(request: Req, error: ErrorCode, ctx: KafkaRequestContext): Res | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKafkaApi = KafkaApi<any, any>;

/** Type-checks one API definition and erases its message types for the table. */
export function defineApi<Req, Res>(api: KafkaApi<Req, Res>): AnyKafkaApi {
  return api;
}

export function isFlexible(api: AnyKafkaApi, version: number): boolean {
  return api.flexibleVersion !== null && version >= api.flexibleVersion;
}
