/**
 * SCRAM (RFC 5802 / RFC 7677) and PLAIN (RFC 4616) on the server side: the RFC 7677 test vector byte for byte,
 * full exchanges against credentials derived at user creation, and refusal of wrong proofs, unknown users and
 * malformed messages — always as a failure result, never an exception.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scramCredential } from '../../runtime/core/auth/passwords.js';
import { AUTHENTICATION_FAILED, parsePlain, saslExchange, type SaslCredentials } from '../../runtime/core/auth/sasl.js';
import { decodeSaslName, ScramServer } from '../../runtime/core/auth/scram.js';
import type { ScramCredential, ScramMechanism } from '../../runtime/core/auth/types.js';

const HASH = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' } as const;

/** The client side of SCRAM, as a Kafka client computes it. */
function clientFinal(mechanism: ScramMechanism, password: string, clientFirstBare: string, serverFirst: string) {
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const hash = HASH[mechanism];
  const length = mechanism === 'SCRAM-SHA-256' ? 32 : 64;
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), length, hash);
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const serverKey = createHmac(hash, salted).update('Server Key').digest();
  const expectedServerFinal = `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`;
  return { message: `${withoutProof},p=${proof.toString('base64')}`, expectedServerFinal };
}

describe('SCRAM-SHA-256: the RFC 7677 §3 example', () => {
  // user "user", password "pencil"
  const credential: ScramCredential = {
    salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
    iterations: 4096,
    storedKey: 'WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=',
    serverKey: 'wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=',
  };

  it('derives the same StoredKey and ServerKey from the password and salt', async () => {
    const derived = await scramCredential('SCRAM-SHA-256', 'pencil', 4096, Buffer.from(credential.salt, 'base64'));
    expect(derived).toEqual(credential);
  });

  it('answers the example client messages with the example server messages', () => {
    const server = new ScramServer('SCRAM-SHA-256', (u) => (u === 'user' ? credential : undefined), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    expect(server.first('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')).toEqual({
      ok: true,
      message: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    });
    const final = server.final(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(final).toEqual({ ok: true, message: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=' });
    expect(server.authenticatedUser).toBe('user');
  });
  it('accepts a client-final nonce with the client nonce repeated in front (librdkafka), as Kafka does', async () => {
    const server = new ScramServer('SCRAM-SHA-256', () => credential, 'SERVERNONCE');
    const first = server.first('n,,n=user,r=CLIENT');
    expect(first).toEqual({ ok: true, message: `r=CLIENTSERVERNONCE,s=${credential.salt},i=4096` });
    const salted = pbkdf2Sync('pencil', Buffer.from(credential.salt, 'base64'), 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const withoutProof = 'c=biws,r=CLIENTCLIENTSERVERNONCE';
    const authMessage = `n=user,r=CLIENT,${(first as { message: string }).message},${withoutProof}`;
    const signature = createHmac('sha256', createHash('sha256').update(clientKey).digest()).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
    expect(server.final(`${withoutProof},p=${proof}`).ok).toBe(true);
  });
});

function store(users: Record<string, string>, creds: Record<string, Record<ScramMechanism, ScramCredential>>): SaslCredentials {
  return {
    verify: async (u, p) => users[u] === p,
    scramCredential: async (u, m) => creds[u]?.[m],
  };
}

describe.each(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('%s exchange', (mechanism) => {
  const creds: Record<string, Record<ScramMechanism, ScramCredential>> = {};
  const ready = (async () => {
    creds.alice = {
      'SCRAM-SHA-256': await scramCredential('SCRAM-SHA-256', 's3cret, with comma='),
      'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 's3cret, with comma='),
    };
  })();

  async function run(user: string, password: string) {
    await ready;
    const exchange = saslExchange(mechanism, store({}, creds))!;
    const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${randomBytes(12).toString('base64')}`;
    const first = await exchange.step(Buffer.from(`n,,${bare}`));
    expect(first.kind).toBe('continue');
    const serverFirst = (first as { challenge: Buffer }).challenge.toString();
    const { message, expectedServerFinal } = clientFinal(mechanism, password, bare, serverFirst);
    return { result: await exchange.step(Buffer.from(message)), expectedServerFinal };
  }

  it('authenticates with the right password and proves the server knows the ServerKey', async () => {
    const { result, expectedServerFinal } = await run('alice', 's3cret, with comma=');
    expect(result.kind).toBe('success');
    if (result.kind !== 'success') return;
    expect(result.response.toString()).toBe(expectedServerFinal);
    expect(result.principal).toEqual({ user: 'alice', mechanism });
  });

  it('refuses a wrong password and an unknown user with the same reason', async () => {
    expect((await run('alice', 'wrong')).result).toEqual({ kind: 'failure', reason: AUTHENTICATION_FAILED });
    expect((await run('mallory', 'anything')).result).toEqual({ kind: 'failure', reason: AUTHENTICATION_FAILED });
  });

  it('gives an unknown user a stable salt, so probing does not reveal who exists', async () => {
    await ready;
    const salts = await Promise.all(
      [1, 2].map(async () => {
        const ex = saslExchange(mechanism, store({}, creds))!;
        const r = await ex.step(Buffer.from('n,,n=nobody,r=abc'));
        return (r as { challenge: Buffer }).challenge.toString().split(',')[1];
      }),
    );
    expect(salts[0]).toBe(salts[1]);
  });

  it('refuses channel binding, delegation tokens, a tampered nonce and a second exchange', async () => {
    await ready;
    const fresh = () => saslExchange(mechanism, store({}, creds))!;
    expect((await fresh().step(Buffer.from('p=tls-unique,,n=alice,r=x'))).kind).toBe('failure');
    expect((await fresh().step(Buffer.from('n,,n=alice,r=x,tokenauth=true'))).kind).toBe('failure');
    const ex = fresh();
    await ex.step(Buffer.from('n,,n=alice,r=abc'));
    expect((await ex.step(Buffer.from('c=biws,r=abcTAMPERED,p=AAAA'))).kind).toBe('failure');
    expect((await ex.step(Buffer.from('c=biws,r=abc,p=AAAA'))).kind).toBe('failure');
  });

  it('turns arbitrary bytes into a failure, never an exception', async () => {
    await ready;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), async (a, b) => {
        const ex = saslExchange(mechanism, store({}, creds))!;
        const first = await ex.step(Buffer.from(a));
        expect(['continue', 'failure']).toContain(first.kind);
        const second = await ex.step(Buffer.from(b));
        expect(second.kind).toBe('failure');
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('saslname and PLAIN parsing', () => {
  it('decodes =2C and =3D and rejects other escapes', () => {
    expect(decodeSaslName('a=2Cb=3Dc')).toBe('a,b=c');
    expect(decodeSaslName('a=41')).toBeNull();
  });

  it('parses authzid NUL authcid NUL passwd', () => {
    expect(parsePlain(Buffer.from('\u0000bob\u0000pw'))).toEqual({ authzid: '', user: 'bob', password: 'pw' });
    expect(parsePlain(Buffer.from('bob\u0000bob\u0000pw'))).toEqual({ authzid: 'bob', user: 'bob', password: 'pw' });
    expect(parsePlain(Buffer.from('bob\u0000pw'))).toBeNull();
    expect(parsePlain(Buffer.from('\u0000bob\u0000pw\u0000x'))).toBeNull();
    expect(parsePlain(Buffer.from('\u0000\u0000pw'))).toBeNull();
  });

  it('authenticates PLAIN, refusing a wrong password and a foreign authorization id', async () => {
    const creds = store({ bob: 'pw' }, {});
    const ok = await saslExchange('PLAIN', creds)!.step(Buffer.from('\u0000bob\u0000pw'));
    expect(ok).toEqual({ kind: 'success', response: Buffer.alloc(0), principal: { user: 'bob', mechanism: 'PLAIN' } });
    expect((await saslExchange('PLAIN', creds)!.step(Buffer.from('\u0000bob\u0000nope'))).kind).toBe('failure');
    expect((await saslExchange('PLAIN', creds)!.step(Buffer.from('root\u0000bob\u0000pw'))).kind).toBe('failure');
    expect(saslExchange('GSSAPI', creds)).toBeUndefined();
  });
});
