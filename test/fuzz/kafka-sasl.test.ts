/**
 * Fuzzing the SASL tokens a Kafka client sends before it is authenticated (PLAIN and SCRAM messages, also raw after
 * SaslHandshake v0): any bytes end in a failure result, never an exception, and never in success.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scramCredential } from '../../runtime/core/auth/passwords.js';
import { parsePlain, saslExchange, SASL_MECHANISMS, type SaslCredentials } from '../../runtime/core/auth/sasl.js';
import { settings, TIMEOUT_MS } from './kafka-fuzz-support.js';

describe('SASL tokens under fuzzing', () => {
  it('turn any sequence of tokens into failure for every mechanism', async () => {
    const credential = {
      'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', 'pw'),
      'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'pw'),
    };
    const credentials: SaslCredentials = { verify: async () => false, scramCredential: async (_user, m) => credential[m] };
    const token = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(`n,,n=u,r=${s}`)),
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(`c=biws,r=${s},p=${Buffer.from(s).toString('base64')}`)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SASL_MECHANISMS), fc.array(token, { minLength: 1, maxLength: 4 }), async (mechanism, tokens) => {
        const exchange = saslExchange(mechanism, credentials)!;
        const results = [];
        for (const t of tokens) results.push(await exchange.step(t));
        expect(results.some((r) => r.kind === 'success')).toBe(false);
      }),
      settings(30),
    );
  }, TIMEOUT_MS);

  it('parse PLAIN messages into no more characters than bytes given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const parsed = parsePlain(Buffer.from(bytes));
        // UTF-16 code units: an invalid byte decodes to one U+FFFD, so never more units than bytes.
        if (parsed) expect(parsed.user.length + parsed.password.length).toBeLessThanOrEqual(bytes.length);
      }),
      settings(31),
    );
  }, TIMEOUT_MS);
});
