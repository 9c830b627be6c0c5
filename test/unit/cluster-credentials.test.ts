/**
 * The cluster's credentials as configuration: the secret (and admin token) from the env or a mounted file, never
 * logged; `robustmq broker` refuses to start without the secret, or with --auth on without the shared admin token;
 * and the forwarding envelope that carries a client's principal to the leader.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnvelope, writeEnvelope } from '../../protocols/kafka/cluster/envelope.js';
import { planCluster } from '../../runtime/cluster/compose.js';
import { peerKey } from '../../runtime/cluster/peer-tls.js';
import { loadConfig } from '../../runtime/config/load.js';
import { redactConfig } from '../../runtime/config/schema.js';
import { createLogger } from '../../runtime/logger.js';
import { tempDir } from '../helpers/node.js';

const SECRET = 'a-cluster-secret-of-at-least-32-chars';
const log = createLogger('silent');

describe('cluster credentials in the configuration', () => {
  it('takes the secret and the admin token from files, dropping a trailing newline; a flag or env value wins', async () => {
    const dir = await tempDir('robustmq-secrets-');
    writeFileSync(path.join(dir, 'secret'), `${SECRET}\n`);
    writeFileSync(path.join(dir, 'token'), 'token-from-a-file-0123\n');
    const env = { ROBUSTMQ_CLUSTER_SECRET_FILE: path.join(dir, 'secret'), ROBUSTMQ_ADMIN_TOKEN_FILE: path.join(dir, 'token') };
    expect(loadConfig({ env })).toMatchObject({ clusterSecret: SECRET, adminToken: 'token-from-a-file-0123' });
    expect(loadConfig({ env: { ...env, ROBUSTMQ_CLUSTER_SECRET: `${SECRET}-env` } }).clusterSecret).toBe(`${SECRET}-env`);
    expect(() => loadConfig({ env: { ROBUSTMQ_CLUSTER_SECRET_FILE: path.join(dir, 'missing') } })).toThrow(/--cluster-secret-file: cannot read .*ENOENT/);
    expect(() => loadConfig({ env: { ROBUSTMQ_CLUSTER_SECRET: 'short' } })).toThrow(/--cluster-secret.*at least 32/);
  });

  it('never shows a secret in the configuration it logs', () => {
    const config = loadConfig({ env: { ROBUSTMQ_CLUSTER_SECRET: SECRET, ROBUSTMQ_ADMIN_TOKEN: 'admin-token-0123456789', ROBUSTMQ_INITIAL_USER_PASSWORD: 'first-password' } });
    const text = JSON.stringify(redactConfig(config));
    for (const secret of [SECRET, 'admin-token-0123456789', 'first-password']) expect(text).not.toContain(secret);
    expect(text).toContain('"clusterSecret":"[redacted]"');
  });

  it('keeps robustmq broker from starting without the secret, or with --auth on without the shared admin token', () => {
    const base = { ROBUSTMQ_META: 'dynamodb' };
    expect(() => planCluster(loadConfig({ env: base }), log, () => undefined)).toThrow(/cluster secret/);
    expect(() => planCluster(loadConfig({ env: { ...base, ROBUSTMQ_CLUSTER_SECRET: SECRET, ROBUSTMQ_AUTH: 'on' } }), log, () => undefined)).toThrow(/admin token/);
    const plan = planCluster(loadConfig({ env: { ...base, ROBUSTMQ_CLUSTER_SECRET: SECRET, ROBUSTMQ_AUTH: 'on', ROBUSTMQ_ADMIN_TOKEN: 'admin-token-0123456789' } }), log, () => undefined);
    expect(plan.config.auth).toBe('on');
  });

  it('derives one 32-byte key per secret', () => {
    expect(peerKey(SECRET)).toHaveLength(32);
    expect(peerKey(SECRET).equals(peerKey(SECRET))).toBe(true);
    expect(peerKey(SECRET).equals(peerKey(`${SECRET}x`))).toBe(false);
    // Not the secret itself on the wire's key schedule.
    expect(peerKey(SECRET).includes(Buffer.from(SECRET.slice(0, 16)))).toBe(false);
  });
});

describe('the forwarding envelope', () => {
  it('carries the principal and leaves the request bytes as they were', () => {
    const request = Buffer.from([0, 0, 0, 7, 1, 2, 3]);
    const framed = Buffer.concat([writeEnvelope({ user: 'alice', mechanism: 'SCRAM-SHA-256' }), request]);
    const { principal, request: rest } = readEnvelope(framed);
    expect(principal).toEqual({ user: 'alice', mechanism: 'forwarded:SCRAM-SHA-256' });
    expect(rest.equals(request)).toBe(true);
    expect(readEnvelope(Buffer.concat([writeEnvelope({ user: null }), request])).principal.user).toBeNull();
  });

  it('refuses a malformed envelope', () => {
    expect(() => readEnvelope(Buffer.from([0]))).toThrow(/too short/);
    expect(() => readEnvelope(Buffer.from([0xff, 0xff, 1, 2]))).toThrow(/out of range/);
    const json = (v: unknown): Buffer => {
      const body = Buffer.from(JSON.stringify(v));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(body.length);
      return Buffer.concat([len, body]);
    };
    expect(() => readEnvelope(json({ m: 'PLAIN' }))).toThrow(/without a user/);
    expect(() => readEnvelope(json({ u: 7 }))).toThrow(/without a user/);
    expect(() => readEnvelope(json(null))).toThrow(/without a user/);
    const broken = Buffer.concat([Buffer.from([0, 3]), Buffer.from('{{{')]);
    expect(() => readEnvelope(broken)).toThrow();
  });
});
