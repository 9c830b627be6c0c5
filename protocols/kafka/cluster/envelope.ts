/**
 * What a forwarded Kafka request carries besides its bytes: the principal the entry broker authenticated. On the
 * internal listener every frame is `int16 length, that many bytes of JSON identity, the Kafka request as the client
 * sent it` (header and body). The leader serves the request as that principal, and its own ACL checks decide —
 * the entry broker does not check partitions it forwards, so each partition's authorization is decided once, by
 * the broker that serves it, with the same rules and principal as if the client had connected there.
 *
 * Only peers that proved the cluster secret (runtime/cluster/peer-tls.ts) reach this listener, so the identity is
 * taken as stated.
 */
import type { Principal } from '../../../runtime/core/auth/types.js';

interface Identity {
  /** User name; null: anonymous (auth off). */
  u: string | null;
  /** Mechanism the entry broker authenticated it by. */
  m?: string;
}

const MAX_IDENTITY_BYTES = 4096;

export function writeEnvelope(principal: Principal): Buffer {
  const identity: Identity = { u: principal.user, ...(principal.mechanism ? { m: principal.mechanism } : {}) };
  const json = Buffer.from(JSON.stringify(identity), 'utf8');
  const out = Buffer.allocUnsafe(2 + json.length);
  out.writeUInt16BE(json.length, 0);
  json.copy(out, 2);
  return out;
}

/** Splits an internal frame into the forwarded principal and the Kafka request; throws on a malformed envelope. */
export function readEnvelope(frame: Buffer): { principal: Principal; request: Buffer } {
  if (frame.length < 2) throw new Error('frame too short for a forwarding envelope');
  const size = frame.readUInt16BE(0);
  if (size > MAX_IDENTITY_BYTES || frame.length < 2 + size) throw new Error(`forwarding envelope of ${size} bytes out of range`);
  const parsed = JSON.parse(frame.subarray(2, 2 + size).toString('utf8')) as Partial<Identity>;
  if (parsed === null || typeof parsed !== 'object' || !(parsed.u === null || typeof parsed.u === 'string')) {
    throw new Error('forwarding envelope without a user');
  }
  const principal: Principal = { user: parsed.u, mechanism: typeof parsed.m === 'string' ? `forwarded:${parsed.m}` : 'forwarded' };
  return { principal, request: frame.subarray(2 + size) };
}
