/**
 * The shared protection pieces: the connection limiter (total and per IP, leases released once), the memory guard
 * (pause above the high watermark, resume when drained, with hysteresis) and TLS option loading (clear errors).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionLimiter } from '../../runtime/core/limits.js';
import { MemoryGuard, type MemorySample } from '../../runtime/core/memory-guard.js';
import { loadTlsOptions } from '../../runtime/tls.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

describe('ConnectionLimiter', () => {
  it('caps connections per IP and in total, and frees a slot once per lease', () => {
    const limiter = new ConnectionLimiter(3, 2);
    const a1 = limiter.tryAcquire('10.0.0.1')!;
    const a2 = limiter.tryAcquire('::ffff:10.0.0.1')!;
    expect(limiter.tryAcquire('10.0.0.1')).toBeNull();
    expect(limiter.lastRefusalReason).toBe('per-ip');
    const b1 = limiter.tryAcquire('10.0.0.2')!;
    expect(limiter.tryAcquire('10.0.0.3')).toBeNull();
    expect(limiter.lastRefusalReason).toBe('total');
    expect(limiter.refused).toEqual({ total: 1, 'per-ip': 1 });
    a1.release();
    a1.release();
    expect(limiter.connections).toBe(2);
    expect(limiter.connectionsFrom('10.0.0.1')).toBe(1);
    expect(limiter.tryAcquire('10.0.0.3')).not.toBeNull();
    a2.release();
    b1.release();
  });
});

describe('MemoryGuard', () => {
  it('pauses above the high watermark and resumes under 90% of it, or when live memory halves', () => {
    let sample: MemorySample = { rss: 50, live: 40 };
    const guard = new MemoryGuard(100, { sample: () => sample });
    const events: string[] = [];
    guard.on('pause', () => events.push('pause'));
    guard.on('resume', () => events.push('resume'));
    guard.check();
    expect(guard.paused).toBe(false);
    sample = { rss: 120, live: 90 };
    guard.check();
    expect(guard.paused).toBe(true);
    let resumed = 0;
    guard.whenResumed(() => resumed++);
    sample = { rss: 95, live: 80 };
    guard.check();
    expect(guard.paused).toBe(true);
    sample = { rss: 89, live: 80 };
    guard.check();
    expect(guard.paused).toBe(false);
    expect(resumed).toBe(1);
    sample = { rss: 130, live: 90 };
    guard.check();
    sample = { rss: 130, live: 40 };
    guard.check();
    expect(events).toEqual(['pause', 'resume', 'pause', 'resume']);
  });

  it('samples as soon as enough bytes were read, without waiting for the timer', () => {
    let samples = 0;
    const guard = new MemoryGuard(100, { intervalMs: 60_000, checkEveryBytes: 1000, sample: () => (samples++, { rss: 200, live: 200 }) });
    guard.observe(5000);
    expect(samples).toBe(0); // not acquired: no listener reads
    const release = guard.acquire();
    guard.observe(600);
    expect(guard.paused).toBe(false);
    guard.observe(600);
    expect(samples).toBe(1);
    expect(guard.paused).toBe(true);
    release();
  });

  it('never pauses when disabled, and samples only while acquired', async () => {
    let samples = 0;
    const off = new MemoryGuard(0, { sample: () => ({ rss: 1e12, live: 1e12 }) });
    off.check();
    expect(off.paused).toBe(false);
    const on = new MemoryGuard(100, { intervalMs: 5, sample: () => (samples++, { rss: 200, live: 200 }) });
    const release = on.acquire();
    await new Promise((r) => setTimeout(r, 40));
    expect(on.paused).toBe(true);
    release();
    expect(on.paused).toBe(false);
    const seen = samples;
    await new Promise((r) => setTimeout(r, 30));
    expect(samples).toBe(seen);
  });
});

describe('loadTlsOptions', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki();
  });
  afterAll(() => pki.remove());

  it('is undefined without TLS settings, and requests client certificates with a CA', () => {
    expect(loadTlsOptions({})).toBeUndefined();
    const plain = loadTlsOptions({ tlsCert: pki.serverCert, tlsKey: pki.serverKey })!;
    expect(plain.requestCert).toBeUndefined();
    const mutual = loadTlsOptions({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, tlsCa: pki.caCert })!;
    expect(mutual).toMatchObject({ requestCert: true, rejectUnauthorized: true });
  });

  it('names the flag and file that cannot be used', async () => {
    expect(() => loadTlsOptions({ tlsCert: pki.serverCert })).toThrow(/--tls-cert and --tls-key go together/);
    expect(() => loadTlsOptions({ tlsCert: '/nonexistent/cert.pem', tlsKey: pki.serverKey })).toThrow(
      'cannot read --tls-cert /nonexistent/cert.pem: ENOENT',
    );
    expect(() => loadTlsOptions({ tlsCert: pki.serverCert, tlsKey: pki.clientKey })).toThrow(/invalid TLS files/);
    const garbage = path.join(pki.dir, 'garbage.pem');
    await writeFile(garbage, 'not a certificate');
    expect(() => loadTlsOptions({ tlsCert: garbage, tlsKey: pki.serverKey })).toThrow(/invalid TLS files/);
  });
});
