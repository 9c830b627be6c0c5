/**
 * Password storage: a salted scrypt hash (RFC 7914) for password checks (MQTT CONNECT, SASL/PLAIN), and the
 * SCRAM credentials of RFC 5802 §3 / RFC 7677 (salt, iterations, StoredKey, ServerKey) derived from the same password
 * at user creation, so SCRAM-SHA-256/512 can be served without keeping the password or SaltedPassword.
 */
import { createHash, createHmac, pbkdf2, randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { promisify } from 'node:util';
import type { PasswordHash, ScramCredential, ScramMechanism } from './types.js';

const scryptAsync = promisify(scrypt) as (password: BinaryLike, salt: BinaryLike, keylen: number, options: object) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** scrypt cost: N=2^14, r=8, p=1 (16 MiB, tens of ms per check), the interactive-login parameters of RFC 7914 §2. */
export const SCRYPT = { n: 16_384, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;
/** RFC 7677 §4: at least 4096 iterations; Kafka's minimum too. */
export const MIN_SCRAM_ITERATIONS = 4096;

export const SCRAM_HASH: Readonly<Record<ScramMechanism, { hash: 'sha256' | 'sha512'; length: number }>> = {
  'SCRAM-SHA-256': { hash: 'sha256', length: 32 },
  'SCRAM-SHA-512': { hash: 'sha512', length: 64 },
};

function derive(password: string, salt: Buffer, h: PasswordHash | typeof SCRYPT): Promise<Buffer> {
  return scryptAsync(password.normalize('NFC'), salt, SCRYPT.keyLength, { N: h.n, r: h.r, p: h.p, maxmem: 64 * 1024 * 1024 });
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(SCRYPT.saltLength);
  const hash = await derive(password, salt, SCRYPT);
  return { scheme: 'scrypt', salt: salt.toString('base64'), hash: hash.toString('base64'), n: SCRYPT.n, r: SCRYPT.r, p: SCRYPT.p };
}

/** Constant-time comparison of `password` with a stored hash. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await derive(password, Buffer.from(stored.salt, 'base64'), stored);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fixed hash to check unknown users' passwords against, so that answering "no such user" takes as long. */
let decoy: Promise<PasswordHash> | undefined;
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

export const hmac = (mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer =>
  createHmac(SCRAM_HASH[mechanism].hash, key).update(data).digest();
export const digest = (mechanism: ScramMechanism, data: Buffer): Buffer => createHash(SCRAM_HASH[mechanism].hash).update(data).digest();

/**
 * RFC 5802 §3: SaltedPassword = Hi(Normalize(password), salt, i) (PBKDF2 with HMAC-H), ClientKey = HMAC(SaltedPassword,
 * "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key"). The password is used as
 * given in UTF-8 (SASLprep is the identity for the ASCII passwords clients commonly send; Kafka does not apply it either).
 */
export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = MIN_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(SCRAM_HASH[mechanism].length),
): Promise<ScramCredential> {
  const { hash, length } = SCRAM_HASH[mechanism];
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, length, hash);
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: digest(mechanism, clientKey).toString('base64'),
    serverKey: hmac(mechanism, salted, 'Server Key').toString('base64'),
  };
}
