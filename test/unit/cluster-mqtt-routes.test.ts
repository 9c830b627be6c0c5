/** The cluster MQTT route table: filter matching, per-broker targets, dead brokers' entries, the link frames. */
import { describe, expect, it } from 'vitest';
import { filterMatches, MqttRouteTable, sharedParts } from '../../runtime/cluster/mqtt-routes.js';
import { linkRequest, openLinkListener, type LinkRequest } from '../../runtime/cluster/mqtt-link.js';
import { peerCredential } from '../../runtime/cluster/peer-tls.js';
import { PeerPool } from '../../runtime/cluster/transport.js';
import { createLogger } from '../../runtime/logger.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';

const log = createLogger('silent');

describe('filterMatches', () => {
  it('follows the MQTT wildcard rules', () => {
    expect(filterMatches('a/b', 'a/b')).toBe(true);
    expect(filterMatches('a/+', 'a/b')).toBe(true);
    expect(filterMatches('a/+', 'a/b/c')).toBe(false);
    expect(filterMatches('a/#', 'a')).toBe(true); // [MQTT-4.7.1-2]
    expect(filterMatches('a/#', 'a/b/c')).toBe(true);
    expect(filterMatches('#', '$SYS/x')).toBe(false); // [MQTT-4.7.2-1]
    expect(filterMatches('+/x', '$SYS/x')).toBe(false);
    expect(filterMatches('$SYS/#', '$SYS/x')).toBe(true);
    expect(filterMatches('a/b', 'a/c')).toBe(false);
  });

  it('splits shared filters', () => {
    expect(sharedParts('$share/g/a/#')).toEqual({ group: 'g', filter: 'a/#' });
    expect(sharedParts('a/#')).toBeUndefined();
  });
});

describe('MqttRouteTable', () => {
  it('lists live brokers with matching filters and forgets dead ones', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-routes-'));
    const meta = await EmbeddedMetaStore.open(dir);
    let live = ['b2', 'b3'];
    const table = (id: string, filters: string[], sessions: string[] = []): MqttRouteTable =>
      new MqttRouteTable({ brokerId: id, meta, log, pollMs: 60_000, localFilters: () => filters, localSessions: () => sessions, live: () => live });
    const b1 = table('b1', []);
    const b2 = table('b2', ['x/#', '$share/g/jobs/+'], ['s1']);
    const b3 = table('b3', ['y', '$share/g/jobs/+']);
    await b2.start();
    await b3.start();
    await b1.start();
    expect(b1.directTargets('x/1')).toEqual(['b2']);
    expect(b1.directTargets('y')).toEqual(['b3']);
    expect(b1.directTargets('z')).toEqual([]);
    expect([...b1.sharedTargets('jobs/1')]).toEqual([['$share/g/jobs/+', ['b2', 'b3']]]);
    expect(b1.holders('s1')).toEqual(['b2']);
    live = ['b3'];
    expect(b1.directTargets('x/1')).toEqual([]);
    expect([...b1.deadEntries().keys()]).toEqual(['b2']);
    await b1.forget('b2');
    await b1.refresh();
    expect(b1.sessionsOf('b2')).toBeUndefined();
    for (const t of [b1, b2, b3]) await t.stop(false);
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });
});

const SECRET = 'test-cluster-secret-0123456789abcdef';

describe('the MQTT link', () => {
  it('carries requests and answers errors', async () => {
    const seen: LinkRequest[] = [];
    let refused = 0;
    const listener = await openLinkListener(
      { host: '127.0.0.1', port: 0, credential: peerCredential('b9', SECRET), log, refused: () => refused++ },
      (req) => {
        if (req.op === 'release-session' && req.clientId === 'bad') throw new Error('refused');
        seen.push(req);
      },
    );
    const peers = new PeerPool(() => ({ host: '127.0.0.1', port: listener.port }), peerCredential('b1', SECRET));
    await linkRequest(peers, 'b9', { op: 'publish', m: { t: 'a', p: '', q: 1, r: false, e: 0 }, shares: [] });
    await expect(linkRequest(peers, 'b9', { op: 'release-session', clientId: 'bad' })).rejects.toThrow(/refused/);
    expect(seen).toEqual([{ op: 'publish', m: { t: 'a', p: '', q: 1, r: false, e: 0 }, shares: [] }]);
    // Another cluster's broker cannot inject a publish.
    const stranger = new PeerPool(() => ({ host: '127.0.0.1', port: listener.port }), peerCredential('b1', 'some-other-cluster-secret-0123456789'));
    await expect(linkRequest(stranger, 'b9', { op: 'publish', m: { t: 'injected', p: '', q: 0, r: false, e: 0 }, shares: [] })).rejects.toMatchObject({ kind: 'unreachable' });
    expect(seen).toHaveLength(1);
    for (let i = 0; i < 500 && refused === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(refused).toBe(1);
    stranger.close();
    peers.close();
    await listener.close();
  });
});
