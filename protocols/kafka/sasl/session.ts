/**
 * The authentication state of one Kafka connection (KIP-43, KIP-84, KIP-152):
 *
 *   unauthenticated ──SaslHandshake v1──▶ exchanging (SaslAuthenticate requests) ──▶ authenticated
 *                   └─SaslHandshake v0──▶ exchanging raw tokens (4-byte length, no request header) ──┘
 *
 * With auth off every connection starts authenticated (anonymous). With auth on and a client certificate the
 * server verified, the connection starts authenticated as the certificate's common name, and SASL may still
 * follow (SASL_SSL) and replace that principal. Until authenticated, only ApiVersions and the SASL APIs are served.
 *
 * A cluster peer's connection on the internal listener proved the cluster secret in its TLS handshake
 * (runtime/cluster/peer-tls.ts) and needs no SASL; each request it forwards is served in a session of its own, as
 * the principal the entry broker authenticated (cluster/envelope.ts), and that principal's ACLs apply here.
 */
import type { SaslExchange } from '../../../runtime/core/auth/sasl.js';
import { ANONYMOUS, type Principal } from '../../../runtime/core/auth/types.js';

export const SASL_HANDSHAKE_KEY = 17;
export const SASL_AUTHENTICATE_KEY = 36;

export class KafkaSession {
  private current: Principal;
  private authenticatedBy: 'none' | 'off' | 'certificate' | 'sasl' | 'peer';
  private pending: SaslExchange | undefined;
  private raw = false;
  /** Set by a handler whose response must be the connection's last (failed authentication). */
  closeAfterResponse: string | undefined;
  /** A close the login guard caused: it logged once for the address, so the connection's close is not logged again. */
  closeQuietly = false;

  constructor(authRequired: boolean, certificateUser?: string) {
    if (!authRequired) {
      this.authenticatedBy = 'off';
      this.current = ANONYMOUS;
    } else if (certificateUser !== undefined) {
      this.authenticatedBy = 'certificate';
      this.current = { user: certificateUser, mechanism: 'TLS' };
    } else {
      this.authenticatedBy = 'none';
      this.current = ANONYMOUS;
    }
  }

  /** The session of one request a cluster peer forwarded: authenticated by the entry broker as `principal`. */
  static forwarded(principal: Principal): KafkaSession {
    const session = new KafkaSession(false);
    session.authenticatedBy = 'peer';
    session.current = principal;
    return session;
  }

  /** The connection of a cluster peer on the internal listener, before any request. */
  static peer(): KafkaSession {
    return KafkaSession.forwarded(ANONYMOUS);
  }

  get principal(): Principal {
    return this.current;
  }

  get authenticated(): boolean {
    return this.authenticatedBy !== 'none';
  }

  /** Whether a SASL handshake may start now: auth is on and no SASL exchange began or finished on this connection. */
  get canHandshake(): boolean {
    return (this.authenticatedBy === 'none' || this.authenticatedBy === 'certificate') && this.pending === undefined;
  }

  /** The exchange a SaslAuthenticate request continues (handshake v1), if any. */
  get exchange(): SaslExchange | undefined {
    return this.raw ? undefined : this.pending;
  }

  /** The exchange raw tokens continue (handshake v0), if any: the next frames carry no request header. */
  get rawExchange(): SaslExchange | undefined {
    return this.raw ? this.pending : undefined;
  }

  begin(exchange: SaslExchange, rawTokens: boolean): void {
    this.pending = exchange;
    this.raw = rawTokens;
  }

  succeed(principal: Principal): void {
    this.current = principal;
    this.authenticatedBy = 'sasl';
    this.pending = undefined;
    this.raw = false;
  }

  /** Whether `apiKey` may be served in the current state. */
  allows(apiKey: number, apiVersionsKey: number): boolean {
    if (this.authenticatedBy !== 'none') return true;
    return apiKey === apiVersionsKey || apiKey === SASL_HANDSHAKE_KEY || (apiKey === SASL_AUTHENTICATE_KEY && this.pending !== undefined);
  }
}
