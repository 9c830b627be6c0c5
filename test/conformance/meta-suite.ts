/**
 * The MetaStore conformance suite: every implementation (embedded, dynamodb) must pass it unchanged. It tests
 * only the contract in runtime/meta/store.ts, plus three rules both implementations share: a transaction may not
 * name the same entry twice (INVALID_ARGUMENT, as in DynamoDB TransactWriteItems), expired entries are filtered by
 * the store itself (not left to a background reaper), and calls after close() reject with CLOSED.
 * Keys used here are ASCII, so UTF-16 and UTF-8 byte order agree for the ordering tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import type { MetaStore } from '../../runtime/meta/store.js';
import { pastExpiry, recorder, rejectsWith, TTL_MS, waitFor } from './meta-suite-helpers.js';

export interface MetaFactory {
  name: string;
  /** True when data written before close() is there again after create() on the same `dir`. */
  persistent: boolean;
  /**
   * Opens a store. `dir` is a fresh empty temp directory per test; implementations that keep no files should
   * still derive their isolation from it (e.g. a table name), and the same `dir` must reach the same data.
   */
  create(dir: string): Promise<MetaStore>;
}

export function metaConformance(factory: MetaFactory): void {
  describe(`MetaStore conformance: ${factory.name}`, () => {
    let dir: string;
    let store: MetaStore;

    const reopen = async () => {
      await store.close();
      store = await factory.create(dir);
    };

    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-'));
      store = await factory.create(dir);
    });

    afterEach(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    describe('get, put, list, delete', () => {
      it('reports missing keys as undefined and empty namespaces as empty lists', async () => {
        expect(await store.get('topics', 'nope')).toBeUndefined();
        expect(await store.list('topics')).toEqual([]);
      });

      it('creates entries at version 1, bumps the version by one per write and returns the entry', async () => {
        const put = await store.put('topics', 'orders', { partitions: 3 });
        expect(put).toEqual({ ns: 'topics', key: 'orders', value: { partitions: 3 }, version: 1 });
        expect(await store.get('topics', 'orders')).toEqual(put);
        for (let i = 2; i <= 5; i++) expect((await store.put('topics', 'orders', { n: i })).version).toBe(i);
        expect(await store.get('topics', 'orders')).toMatchObject({ value: { n: 5 }, version: 5 });
      });

      it('round-trips JSON values exactly and isolates them from caller mutation', async () => {
        const value = { s: 'héllo ✓ \u{1F600}', n: -12.5, big: 2 ** 52, b: false, z: null, a: [1, 'two', { three: 3 }] };
        const key = 'g\u0000t\u00001';
        await store.put('group-offsets', key, value);
        value.a.push('mutated');
        const got = await store.get<typeof value>('group-offsets', key);
        expect(got?.value).toEqual({ ...value, a: [1, 'two', { three: 3 }] });
        got!.value.a.push('again');
        expect((await store.get<typeof value>('group-offsets', key))?.value.a).toHaveLength(3);
        for (const v of ['text', 42, true, null, []]) expect((await store.put('cluster', 'scalar', v)).value).toEqual(v);
        expect((await store.get('cluster', 'scalar'))?.value).toEqual([]);
      });

      it('deletes entries and reports whether they existed', async () => {
        await store.put('users', 'alice', { role: 'admin' });
        expect(await store.delete('users', 'alice')).toBe(true);
        expect(await store.get('users', 'alice')).toBeUndefined();
        expect(await store.delete('users', 'alice')).toBe(false);
        expect(await store.delete('users', 'never')).toBe(false);
      });

      it('starts a re-created key again at version 1', async () => {
        for (const v of [1, 2]) await store.put('acls', 'k', v);
        await store.delete('acls', 'k');
        expect((await store.put('acls', 'k', 3, { expectedVersion: 0 })).version).toBe(1);
      });

      it('lists by prefix in key order', async () => {
        const keys = ['b/2', 'a/10', 'b/1', 'a/1', 'c', 'a/2', 'b/10', 'ab'];
        for (const k of keys) await store.put('partitions', k, k.toUpperCase());
        const all = await store.list<string>('partitions');
        expect(all.map((e) => e.key)).toEqual([...keys].sort());
        expect(all.every((e) => e.version === 1 && e.value === e.key.toUpperCase() && e.ns === 'partitions')).toBe(true);
        expect((await store.list('partitions', 'a/')).map((e) => e.key)).toEqual(['a/1', 'a/10', 'a/2']);
        expect((await store.list('partitions', 'b/1')).map((e) => e.key)).toEqual(['b/1', 'b/10']);
        expect(await store.list('partitions', 'zzz')).toEqual([]);
        await store.delete('partitions', 'a/10');
        expect((await store.list('partitions', 'a')).map((e) => e.key)).toEqual(['a/1', 'a/2', 'ab']);
      });

      it('keeps namespaces apart', async () => {
        await store.put('topics', 'same', 't');
        await store.put('groups', 'same', 'g1');
        await store.put('groups', 'same', 'g2');
        expect(await store.get('topics', 'same')).toMatchObject({ value: 't', version: 1 });
        expect(await store.get('groups', 'same')).toMatchObject({ value: 'g2', version: 2 });
        expect(await store.delete('topics', 'same')).toBe(true);
        expect(await store.get('groups', 'same')).toMatchObject({ value: 'g2' });
        expect((await store.list('groups')).map((e) => e.ns)).toEqual(['groups']);
        expect(await store.list('sessions')).toEqual([]);
      });
    });

    describe('compare-and-set', () => {
      it('writes when expectedVersion matches and rejects CONFLICT (retriable) otherwise, changing nothing', async () => {
        await store.put('topics', 't', 'v1');
        expect((await store.put('topics', 't', 'v2', { expectedVersion: 1 })).version).toBe(2);
        const err = await rejectsWith(store.put('topics', 't', 'stale', { expectedVersion: 1 }), 'CONFLICT');
        expect((err as { retriable: boolean }).retriable).toBe(true);
        expect(await store.get('topics', 't')).toMatchObject({ value: 'v2', version: 2 });
        await rejectsWith(store.put('topics', 'missing', 'x', { expectedVersion: 1 }), 'CONFLICT');
        expect(await store.get('topics', 'missing')).toBeUndefined();
      });

      it('treats expectedVersion 0 as create-only', async () => {
        expect((await store.put('brokers', 'b', 'first', { expectedVersion: 0 })).version).toBe(1);
        await rejectsWith(store.put('brokers', 'b', 'second', { expectedVersion: 0 }), 'CONFLICT');
        expect(await store.get('brokers', 'b')).toMatchObject({ value: 'first', version: 1 });
      });

      it('guards deletes with expectedVersion', async () => {
        await store.put('sessions', 's', 1);
        await store.put('sessions', 's', 2);
        await rejectsWith(store.delete('sessions', 's', { expectedVersion: 1 }), 'CONFLICT');
        await rejectsWith(store.delete('sessions', 's', { expectedVersion: 0 }), 'CONFLICT');
        await rejectsWith(store.delete('sessions', 'missing', { expectedVersion: 4 }), 'CONFLICT');
        expect(await store.get('sessions', 's')).toMatchObject({ version: 2 });
        expect(await store.delete('sessions', 's', { expectedVersion: 2 })).toBe(true);
        expect(await store.get('sessions', 's')).toBeUndefined();
      });

      it('lets exactly one of many concurrent CAS writers win', async () => {
        await store.put('partitions', 'leader', { broker: 0 });
        const race = (i: number) => store.put('partitions', 'leader', { broker: i + 1 }, { expectedVersion: 1 });
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => race(i)));
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []));
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(isRobustMQError(r.reason, 'CONFLICT')).toBe(true);
        expect(await store.get('partitions', 'leader')).toMatchObject({ value: { broker: won[0] }, version: 2 });
      });

      it('lets exactly one of many concurrent creators win', async () => {
        const create = (i: number) => store.put('cluster', 'id', `node-${i}`, { expectedVersion: 0 });
        const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => create(i)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await store.get('cluster', 'id')).toMatchObject({ version: 1 });
      });

      it('loses no increment when concurrent workers retry on CONFLICT', async () => {
        await store.put('cluster', 'counter', 0);
        const worker = async () => {
          for (let done = 0; done < 5; ) {
            const cur = (await store.get<number>('cluster', 'counter'))!;
            try {
              await store.put('cluster', 'counter', cur.value + 1, { expectedVersion: cur.version });
              done++;
            } catch (err) {
              if (!isRobustMQError(err, 'CONFLICT')) throw err;
            }
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        expect(await store.get('cluster', 'counter')).toMatchObject({ value: 20, version: 21 });
      });
    });

    describe('transact', () => {
      it('applies puts and deletes together; checks write nothing', async () => {
        await store.put('partitions', 'p0', { epoch: 1 });
        await store.put('topics', 'old', 'x');
        await store.put('cluster', 'fence', 'f');
        await store.transact([
          { op: 'check', ns: 'cluster', key: 'fence', expectedVersion: 1 },
          { op: 'put', ns: 'partitions', key: 'p0', value: { epoch: 2 }, expectedVersion: 1 },
          { op: 'put', ns: 'partitions', key: 'p1', value: { epoch: 1 }, expectedVersion: 0 },
          { op: 'delete', ns: 'topics', key: 'old', expectedVersion: 1 },
          { op: 'put', ns: 'groups', key: 'g', value: 'unconditional' },
        ]);
        expect(await store.get('partitions', 'p0')).toMatchObject({ value: { epoch: 2 }, version: 2 });
        expect(await store.get('partitions', 'p1')).toMatchObject({ value: { epoch: 1 }, version: 1 });
        expect(await store.get('topics', 'old')).toBeUndefined();
        expect(await store.get('groups', 'g')).toMatchObject({ version: 1 });
        expect(await store.get('cluster', 'fence')).toMatchObject({ value: 'f', version: 1 });
        await store.transact([]);
      });

      it('changes nothing when a put or delete condition fails', async () => {
        await store.put('topics', 'a', 'a1');
        await store.put('topics', 'b', 'b1');
        const failing = store.transact([
          { op: 'put', ns: 'topics', key: 'a', value: 'a2', expectedVersion: 1 },
          { op: 'delete', ns: 'topics', key: 'b' },
          { op: 'put', ns: 'topics', key: 'new', value: 'n' },
          { op: 'put', ns: 'topics', key: 'b2', value: 'x', expectedVersion: 3 },
        ]);
        await rejectsWith(failing, 'CONFLICT');
        const left = (await store.list('topics')).map((e) => [e.key, e.value, e.version]);
        expect(left).toEqual([['a', 'a1', 1], ['b', 'b1', 1]]);
      });

      it('changes nothing when a check fails, and checks absence with expectedVersion 0', async () => {
        await store.put('partitions', 'p', { epoch: 1 });
        await store.put('partitions', 'p', { epoch: 2 });
        const commit = (epochVersion: number) =>
          store.transact([
            { op: 'check', ns: 'partitions', key: 'p', expectedVersion: epochVersion },
            { op: 'put', ns: 'group-offsets', key: 'o', value: 10 },
          ]);
        await rejectsWith(commit(1), 'CONFLICT');
        expect(await store.get('group-offsets', 'o')).toBeUndefined();
        await commit(2);
        expect(await store.get('group-offsets', 'o')).toMatchObject({ value: 10 });
        await rejectsWith(store.transact([{ op: 'check', ns: 'partitions', key: 'p', expectedVersion: 0 }]), 'CONFLICT');
        await store.transact([{ op: 'check', ns: 'partitions', key: 'absent', expectedVersion: 0 }]);
      });

      it('lets exactly one of several fenced transactions commit', async () => {
        await store.put('partitions', 'epoch', 1);
        const claim = (i: number) =>
          store.transact([
            { op: 'put', ns: 'partitions', key: 'epoch', value: 2, expectedVersion: 1 },
            { op: 'put', ns: 'brokers', key: `claim-${i}`, value: i },
          ]);
        const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => claim(i)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await store.list('brokers')).toHaveLength(1);
      });

      it('refuses a transaction naming the same entry twice', async () => {
        const dup = store.transact([
          { op: 'put', ns: 'topics', key: 'dup', value: 1 },
          { op: 'check', ns: 'topics', key: 'dup', expectedVersion: 0 },
        ]);
        await rejectsWith(dup, 'INVALID_ARGUMENT');
        expect(await store.get('topics', 'dup')).toBeUndefined();
      });
    });

    describe('watch', () => {
      it('delivers puts and deletes in order, after the write and never from inside the call', async () => {
        const rec = recorder(store, 'topics');
        const writing = store.put('topics', 't', 'v1');
        expect(rec.changes).toHaveLength(0);
        await writing;
        await store.put('topics', 't', 'v2');
        await store.delete('topics', 't');
        await waitFor(() => rec.changes.length === 3, 'three changes');
        const entry = { ns: 'topics', key: 't', value: 'v1', version: 1 };
        expect(rec.changes[0]).toEqual({ type: 'put', ns: 'topics', key: 't', entry });
        expect(rec.changes[1]).toMatchObject({ type: 'put', entry: { value: 'v2', version: 2 } });
        expect(rec.changes[2]).toMatchObject({ type: 'delete', ns: 'topics', key: 't' });
        rec.stop();
      });

      it('delivers every write of a transaction, and nothing for checks or failed writes', async () => {
        await store.put('partitions', 'gone', 0);
        await store.put('partitions', 'fence', 0);
        const rec = recorder(store, 'partitions');
        await store.transact([
          { op: 'check', ns: 'partitions', key: 'fence', expectedVersion: 1 },
          { op: 'put', ns: 'partitions', key: 'a', value: 1 },
          { op: 'delete', ns: 'partitions', key: 'gone' },
        ]);
        await rejectsWith(store.put('partitions', 'a', 9, { expectedVersion: 7 }), 'CONFLICT');
        await rejectsWith(store.transact([{ op: 'put', ns: 'partitions', key: 'b', value: 1, expectedVersion: 2 }]), 'CONFLICT');
        await store.put('partitions', 'sentinel', 1);
        await waitFor(() => rec.seen('sentinel'), 'the sentinel change');
        expect(rec.keys().sort()).toEqual(['delete:gone', 'put:a', 'put:sentinel']);
        rec.stop();
      });

      it('stops after unsubscribe and only reports its own namespace', async () => {
        const stopped = recorder(store, 'groups');
        const other = recorder(store, 'topics');
        const live = recorder(store, 'groups');
        await store.put('groups', 'before', 1);
        await waitFor(() => stopped.seen('before') && live.seen('before'), 'the first change');
        stopped.stop();
        await store.put('groups', 'after', 1);
        await store.put('groups', 'sentinel', 1);
        await waitFor(() => live.seen('sentinel'), 'the sentinel change');
        expect(stopped.keys()).toEqual(['put:before']);
        expect(other.changes).toEqual([]);
        live.stop();
        other.stop();
      });

      it('survives a listener that throws', async () => {
        const stop = store.watch('retained', () => { throw new Error('listener bug'); });
        const rec = recorder(store, 'retained');
        await store.put('retained', 'a', 1);
        await store.put('retained', 'b', 2);
        await waitFor(() => rec.seen('b'), 'the second change');
        expect(await store.get('retained', 'a')).toMatchObject({ value: 1 });
        stop();
        rec.stop();
      });
    });

    describe('lifecycle', () => {
      it('rejects calls after close with CLOSED, and close is idempotent', async () => {
        await store.put('topics', 'x', 1);
        await store.close();
        await store.close();
        await rejectsWith(store.get('topics', 'x'), 'CLOSED');
        await rejectsWith(store.put('topics', 'x', 2), 'CLOSED');
        await rejectsWith(store.transact([]), 'CLOSED');
        store = await factory.create(dir);
      });

      if (factory.persistent) {
        it('keeps values, versions, deletes and expiry across close and reopen', async () => {
          await store.put('topics', 'kept', { n: 1 });
          await store.put('topics', 'kept', { n: 2 });
          await store.put('topics', 'deleted', 1);
          await store.delete('topics', 'deleted');
          const lease = await store.put('brokers', 'lease', 'b1', { ttlMs: 60_000 });
          await store.transact([
            { op: 'put', ns: 'partitions', key: 'p', value: 'tx', expectedVersion: 0 },
            { op: 'put', ns: 'topics', key: 'kept', value: { n: 3 }, expectedVersion: 2 },
          ]);
          await reopen();
          expect(await store.get('topics', 'kept')).toEqual({ ns: 'topics', key: 'kept', value: { n: 3 }, version: 3 });
          expect(await store.get('topics', 'deleted')).toBeUndefined();
          expect(await store.get('brokers', 'lease')).toEqual(lease);
          expect(await store.get('partitions', 'p')).toMatchObject({ value: 'tx', version: 1 });
          expect((await store.put('topics', 'kept', { n: 4 }, { expectedVersion: 3 })).version).toBe(4);
          await reopen();
          expect(await store.get('topics', 'kept')).toMatchObject({ value: { n: 4 }, version: 4 });
        });

        it('keeps every acknowledged write of a concurrent burst across reopen', async () => {
          await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('group-offsets', `k${String(i).padStart(2, '0')}`, i)));
          await reopen();
          const all = await store.list<number>('group-offsets');
          expect(all.map((e) => e.value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        });
      }
    });
  });

  // Each expiry test waits for an entry to expire, so they run concurrently rather than one TTL after another. That
  // needs a store per test (the hooks above share one variable), so they live in a second block of the same name.
  describe(`MetaStore conformance: ${factory.name}`, () => {
    const withStore = it.extend<{ store: MetaStore }>({
      store: async ({}, use) => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-'));
        const store = await factory.create(dir);
        try {
          await use(store);
        } finally {
          await store.close();
          await rm(dir, { recursive: true, force: true });
        }
      },
    });

    /** Asserts that a write made between `before` and now got the expiry `ttlMs` after its own time. */
    const expectExpiry = (expiresAt: number | undefined, before: number, ttlMs: number) => {
      expect(expiresAt).toBeGreaterThanOrEqual(before + ttlMs);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + ttlMs);
    };

    describe.concurrent('expiry (TTL)', () => {
      withStore('hides an entry from get and list once it expires', async ({ store }) => {
        const before = Date.now();
        const put = await store.put('brokers', 'lease', { host: 'b1' }, { ttlMs: TTL_MS });
        expectExpiry(put.expiresAt, before, TTL_MS);
        await store.put('brokers', 'permanent', 1);
        expect(await store.get('brokers', 'lease')).toMatchObject({ expiresAt: put.expiresAt });
        expect(await store.get('brokers', 'permanent')).not.toHaveProperty('expiresAt');
        expect((await store.list('brokers')).map((e) => e.key)).toEqual(['lease', 'permanent']);
        await pastExpiry(put.expiresAt);
        expect(await store.get('brokers', 'lease')).toBeUndefined();
        expect((await store.list('brokers')).map((e) => e.key)).toEqual(['permanent']);
        expect(await store.delete('brokers', 'lease')).toBe(false);
      });

      withStore('treats an expired entry as absent for compare-and-set', async ({ store }) => {
        await store.put('brokers', 'b', 'first', { ttlMs: TTL_MS });
        const before = Date.now();
        const renewed = await store.put('brokers', 'b', 'renewed', { ttlMs: TTL_MS, expectedVersion: 1 });
        expectExpiry(renewed.expiresAt, before, TTL_MS);
        await pastExpiry(renewed.expiresAt);
        await rejectsWith(store.put('brokers', 'b', 'zombie', { expectedVersion: 2 }), 'CONFLICT');
        const taken = await store.put('brokers', 'b', 'new owner', { expectedVersion: 0 });
        expect(taken).toEqual({ ns: 'brokers', key: 'b', value: 'new owner', version: 1 });
      });

      withStore('keeps an entry rewritten without a TTL, and renews one rewritten with a TTL', async ({ store }) => {
        const before = Date.now();
        const fixed = await store.put('sessions', 'fixed', 1, { ttlMs: TTL_MS });
        expect(await store.put('sessions', 'fixed', 2)).not.toHaveProperty('expiresAt');
        const renewed = await store.put('sessions', 'renewed', 1, { ttlMs: TTL_MS });
        const renewedAt = Date.now();
        const renewal = await store.put('sessions', 'renewed', 2, { ttlMs: 60_000 });
        expectExpiry(fixed.expiresAt, before, TTL_MS);
        expectExpiry(renewed.expiresAt, before, TTL_MS);
        expectExpiry(renewal.expiresAt, renewedAt, 60_000);
        await pastExpiry(Math.max(fixed.expiresAt!, renewed.expiresAt!));
        expect(await store.get('sessions', 'fixed')).toEqual({ ns: 'sessions', key: 'fixed', value: 2, version: 2 });
        expect(await store.get('sessions', 'renewed')).toMatchObject({ value: 2, version: 2, expiresAt: renewal.expiresAt });
      });

      withStore('expires entries written by transact, and lets a check see them as absent', async ({ store }) => {
        const before = Date.now();
        await store.transact([{ op: 'put', ns: 'producers', key: 'p', value: 1, ttlMs: TTL_MS }]);
        const written = await store.get('producers', 'p');
        expectExpiry(written?.expiresAt, before, TTL_MS);
        await pastExpiry(written!.expiresAt);
        await store.transact([{ op: 'check', ns: 'producers', key: 'p', expectedVersion: 0 }]);
        expect(await store.get('producers', 'p')).toBeUndefined();
      });
    });
  });
}
