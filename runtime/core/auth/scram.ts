/**
 * The server side of SCRAM (RFC 5802) with SHA-256 (RFC 7677) and SHA-512, as Kafka uses it (KIP-84): two client
 * messages, two server messages, no channel binding. Pure apart from the server nonce, which the caller may inject.
 *
 *   C: n,,n=user,r=<client nonce>                          client-first
 *   S: r=<client nonce><server nonce>,s=<salt>,i=<iterations>   server-first
 *   C: c=biws,r=<nonce>,p=<proof>                           client-final
 *   S: v=<server signature>                                 server-final
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { digest, hmac, MIN_SCRAM_ITERATIONS, SCRAM_HASH } from './passwords.js';
import type { ScramCredential, ScramMechanism } from './types.js';

export type ScramStep = { ok: true; message: string } | { ok: false; error: string };

/** The printable characters of a nonce: %x21-2B / %x2D-7E (RFC 5802 §7). */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const MAX_MESSAGE = 4096;

/** saslname (RFC 5802 §5.1): "=2C" stands for ",", "=3D" for "="; any other "=" is invalid. */
export function decodeSaslName(value: string): string | null {
  if (/=(?!2C|3D)/.test(value)) return null;
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** The user name a client-first message claims, or null when it is not one. */
export function scramUserOf(clientFirst: string): string | null {
  const m = /^(?:[ny]|p=[^,]*),(?:a=[^,]*)?,n=([^,]*)/.exec(clientFirst);
  return m ? decodeSaslName(m[1]) : null;
}

function attributes(message: string): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) return null;
    const key = part.slice(0, eq);
    if (!out.has(key)) out.set(key, part.slice(eq + 1));
  }
  return out;
}

const fail = (error: string): ScramStep => ({ ok: false, error });

export class ScramServer {
  private state: 'first' | 'final' | 'done' = 'first';
  private user: string | undefined;
  private credential: ScramCredential | undefined;
  private known = false;
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';

  constructor(
    readonly mechanism: ScramMechanism,
    /** The stored credential of a user, or undefined when there is no such user. */
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly serverNonce: string = randomBytes(18).toString('base64'),
  ) {}

  /** The authenticated user name, once `final` succeeded. */
  get authenticatedUser(): string | undefined {
    return this.state === 'done' ? this.user : undefined;
  }

  /** The user name the client claimed in its first message. */
  get claimedUser(): string | undefined {
    return this.user;
  }

  /** Handles client-first; answers server-first. */
  first(clientFirst: string): ScramStep {
    if (this.state !== 'first') return fail('unexpected SCRAM client-first message');
    this.state = 'final';
    if (clientFirst.length > MAX_MESSAGE) return fail('SCRAM message too long');
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(clientFirst);
    if (!m) return fail('invalid SCRAM client-first message');
    if (m[1].startsWith('p=')) return fail('SCRAM channel binding is not supported');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    if (!attrs || this.clientFirstBare.startsWith('m=')) return fail('invalid SCRAM client-first message');
    const name = decodeSaslName(attrs.get('n') ?? '');
    const clientNonce = attrs.get('r') ?? '';
    if (!name || !PRINTABLE.test(clientNonce)) return fail('invalid SCRAM user name or nonce');
    // Kafka's extension for delegation tokens (KIP-48).
    if (attrs.has('tokenauth')) {
      return fail('SCRAM delegation tokens are not supported');
    }
    const authzid = m[2] ? decodeSaslName(m[2].slice(2)) : null;
    if (authzid !== null && authzid !== name) return fail('SCRAM authorization id differs from the user name');
    this.user = name;
    const credential = this.lookup(name);
    this.known = credential !== undefined;
    this.credential = credential ?? this.decoy();
    this.nonce = clientNonce + this.serverNonce.replace(/,/g, '~');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt},i=${this.credential.iterations}`;
    return { ok: true, message: this.serverFirst };
  }

  /** Handles client-final; answers server-final when the proof is right. */
  final(clientFinal: string): ScramStep {
    if (this.state !== 'final' || !this.credential) return fail('unexpected SCRAM client-final message');
    this.state = 'first';
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0 || clientFinal.length > MAX_MESSAGE) return fail('invalid SCRAM client-final message');
    const withoutProof = clientFinal.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (!attrs) return fail('invalid SCRAM client-final message');
    if (attrs.get('c') !== Buffer.from(this.gs2Header).toString('base64')) return fail('SCRAM channel binding mismatch');
    // librdkafka sends its client nonce again before the combined nonce; Kafka's broker accepts any client-final
    // nonce that ends with the one it sent (ScramSaslServer), and so do we: freshness is what the check is for.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) return fail('SCRAM nonce mismatch');
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(this.credential.storedKey, 'base64');
    const clientSignature = hmac(this.mechanism, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return fail('authentication failed');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    const matches = timingSafeEqual(digest(this.mechanism, clientKey), storedKey);
    if (!matches || !this.known) return fail('authentication failed');
    this.state = 'done';
    const serverSignature = hmac(this.mechanism, Buffer.from(this.credential.serverKey, 'base64'), authMessage);
    return { ok: true, message: `v=${serverSignature.toString('base64')}` };
  }

  /** A credential for unknown users, so the exchange runs its course and fails only at the proof (RFC 5802 §9). */
  private decoy(): ScramCredential {
    const length = SCRAM_HASH[this.mechanism].length;
    const key = randomBytes(length).toString('base64');
    const salt = hmac(this.mechanism, DECOY_SECRET, this.user ?? '').toString('base64');
    return { salt, iterations: MIN_SCRAM_ITERATIONS, storedKey: key, serverKey: key };
  }
}

/** Per-process secret for decoy salts: the same unknown user sees the same salt within a process lifetime. */
const DECOY_SECRET = randomBytes(32);
