/**
 * SASL mechanisms served to clients (Kafka SaslHandshake/SaslAuthenticate, and any protocol with SASL-style
 * exchanges): PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677). An exchange takes client tokens one at a
 * time and ends in success (with the principal) or failure; a failure reason never says whether the user exists.
 */
import { ScramServer, scramUserOf } from './scram.js';
import { SCRAM_MECHANISMS, type Principal, type ScramCredential, type ScramMechanism } from './types.js';

export const SASL_MECHANISMS = ['PLAIN', ...SCRAM_MECHANISMS] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export type SaslResult =
  | { readonly kind: 'continue'; readonly challenge: Buffer }
  | { readonly kind: 'success'; readonly response: Buffer; readonly principal: Principal }
  | { readonly kind: 'failure'; readonly reason: string };

export interface SaslExchange {
  readonly mechanism: SaslMechanism;
  /** Processes the next client token. */
  step(token: Buffer): Promise<SaslResult>;
}

/** What the mechanisms need from the user store. */
export interface SaslCredentials {
  /** Checks a user's password (PLAIN). */
  verify(user: string, password: string): Promise<boolean>;
  /** The stored SCRAM credential of a user, or undefined. */
  scramCredential(user: string, mechanism: ScramMechanism): Promise<ScramCredential | undefined>;
}

export const AUTHENTICATION_FAILED = 'Authentication failed: Invalid username or password';

/**
 * Whether a result is a failed login: credentials checked and found wrong (PLAIN password, SCRAM proof, either for an
 * unknown user), as opposed to a malformed or unsupported message, which costs no credential work.
 */
export const isRejection = (result: SaslResult): boolean => result.kind === 'failure' && result.reason === AUTHENTICATION_FAILED;

const MAX_PLAIN_TOKEN = 2048;

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

/** RFC 4616: message = [authzid] NUL authcid NUL passwd. Returns null for anything else. */
export function parsePlain(token: Buffer): { authzid: string; user: string; password: string } | null {
  if (token.length > MAX_PLAIN_TOKEN) return null;
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0) return null;
  const authzid = token.subarray(0, first).toString('utf8');
  const user = token.subarray(first + 1, second).toString('utf8');
  const password = token.subarray(second + 1).toString('utf8');
  if (user.length === 0 || password.length === 0) return null;
  return { authzid, user, password };
}

class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN';
  private used = false;

  constructor(private readonly credentials: SaslCredentials) {}

  async step(token: Buffer): Promise<SaslResult> {
    if (this.used) return { kind: 'failure', reason: 'PLAIN takes a single message' };
    this.used = true;
    const parsed = parsePlain(token);
    if (!parsed) return { kind: 'failure', reason: 'Invalid SASL/PLAIN message' };
    // Kafka accepts an authorization id only when it names the authenticated user.
    if (parsed.authzid !== '' && parsed.authzid !== parsed.user) {
      return { kind: 'failure', reason: 'Authentication failed: authorization id differs from the user name' };
    }
    if (!(await this.credentials.verify(parsed.user, parsed.password))) return { kind: 'failure', reason: AUTHENTICATION_FAILED };
    return { kind: 'success', response: Buffer.alloc(0), principal: { user: parsed.user, mechanism: 'PLAIN' } };
  }
}

class ScramExchange implements SaslExchange {
  private credential: ScramCredential | undefined;
  private readonly server: ScramServer;
  private round = 0;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly credentials: SaslCredentials,
  ) {
    this.server = new ScramServer(mechanism, () => this.credential);
  }

  async step(token: Buffer): Promise<SaslResult> {
    const message = token.toString('utf8');
    const round = this.round++;
    if (round === 0) {
      const user = scramUserOf(message);
      this.credential = user === null ? undefined : await this.credentials.scramCredential(user, this.mechanism);
      const first = this.server.first(message);
      return first.ok ? { kind: 'continue', challenge: Buffer.from(first.message) } : { kind: 'failure', reason: first.error };
    }
    if (round === 1) {
      const final = this.server.final(message);
      if (!final.ok) {
        return { kind: 'failure', reason: final.error === 'authentication failed' ? AUTHENTICATION_FAILED : final.error };
      }
      const principal: Principal = { user: this.server.authenticatedUser!, mechanism: this.mechanism };
      return { kind: 'success', response: Buffer.from(final.message), principal };
    }
    return { kind: 'failure', reason: 'SCRAM exchange already complete' };
  }
}

/** A new exchange for `mechanism`, or undefined when it is not served. */
export function saslExchange(mechanism: string, credentials: SaslCredentials): SaslExchange | undefined {
  if (mechanism === 'PLAIN') return new PlainExchange(credentials);
  if (mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') return new ScramExchange(mechanism, credentials);
  return undefined;
}
