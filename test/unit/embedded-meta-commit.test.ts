import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { GroupCommitter } from '../../runtime/meta/embedded/group-commit.js';
import type { LogFile } from '../../runtime/meta/embedded/log-file.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('group commit', () => {
  it('batches writes that arrive while a sync is in progress into the next round', async () => {
    const rounds: string[][] = [];
    const gate = deferred();
    const committer = new GroupCommitter(async (payloads) => {
      rounds.push(payloads.map(String));
      if (rounds.length === 1) await gate.promise;
    });
    const first = committer.submit(Buffer.from('a')).done;
    const second = committer.submit(Buffer.from('b')).done;
    await new Promise((resolve) => setImmediate(resolve));
    const late = [committer.submit(Buffer.from('c')).done, committer.submit(Buffer.from('d')).done];
    expect(rounds).toEqual([['a', 'b']]);
    gate.resolve();
    await Promise.all([first, second, ...late]);
    expect(rounds).toEqual([['a', 'b'], ['c', 'd']]);
    expect(committer.durableSeq).toBe(4);
    expect(committer.rounds).toBe(2);
  });

  it('fails the batch, everything queued behind it and every later write once a sync fails', async () => {
    const gate = deferred();
    const committer = new GroupCommitter(async () => {
      await gate.promise;
      throw new Error('EIO');
    });
    const first = committer.submit(Buffer.from('a')).done;
    await new Promise((resolve) => setImmediate(resolve));
    const queued = committer.submit(Buffer.from('b')).done;
    gate.resolve();
    await expect(first).rejects.toThrow('EIO');
    await expect(queued).rejects.toThrow('EIO');
    await expect(committer.submit(Buffer.from('c')).done).rejects.toThrow('EIO');
    await committer.idle();
  });
});

describe('embedded meta store durability ordering', () => {
  let dir: string;
  let store: EmbeddedMetaStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-commit-'));
    store = await EmbeddedMetaStore.open(dir);
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** Makes the log's append wait for `gate` (tests reach internals). */
  function slowAppends(gate: Promise<void>): void {
    const file = (store as unknown as { file: LogFile }).file;
    const append = file.append.bind(file);
    file.append = async (frames) => {
      await gate;
      return append(frames);
    };
  }

  it('shares syncs between concurrent writers', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.put('group-offsets', `k${i}`, i)));
    expect(store.stats().commitRounds).toBeLessThanOrEqual(5);
  });

  it('answers a read only once the write it observed is durable', async () => {
    const gate = deferred();
    slowAppends(gate.promise);
    const order: string[] = [];
    const write = store.put('topics', 't', 1).then(() => order.push('put'));
    const read = store.get('topics', 't').then((e) => order.push(`get v${e?.version}`));
    const other = store.get('groups', 'unrelated').then(() => order.push('other namespace'));
    await other;
    expect(order).toEqual(['other namespace']);
    gate.resolve();
    await Promise.all([write, read]);
    expect(order.slice(1).sort()).toEqual(['get v1', 'put']);
  });

  it('reports a CONFLICT only once the entry it conflicted with is durable', async () => {
    const gate = deferred();
    slowAppends(gate.promise);
    let settled = false;
    const write = store.put('topics', 't', 1);
    const loser = store.put('topics', 't', 2, { expectedVersion: 0 }).catch((err: unknown) => {
      settled = true;
      return err;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    gate.resolve();
    await write;
    expect(isRobustMQError(await loser, 'CONFLICT')).toBe(true);
  });

  it('becomes unavailable after a failed log write instead of serving undurable state', async () => {
    const file = (store as unknown as { file: LogFile }).file;
    file.append = () => Promise.reject(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
    const err = await store.put('topics', 't', 1).catch((e: unknown) => e);
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).cause).toMatchObject({ code: 'ENOSPC' });
    expect(isRobustMQError(await store.get('topics', 't').catch((e: unknown) => e), 'STORAGE_UNAVAILABLE')).toBe(true);
  });

  it('rejects values and arguments it cannot store with INVALID_ARGUMENT, writing nothing', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: Promise<unknown>[] = [
      store.put('topics', 'k', undefined),
      store.put('topics', 'k', 10n),
      store.put('topics', 'k', cyclic),
      store.put('nope' as 'topics', 'k', 1),
      store.put('topics', '', 1),
      store.put('topics', 'k', 1, { expectedVersion: -1 }),
      store.put('topics', 'k', 1, { ttlMs: 0 }),
      store.transact([
        { op: 'put', ns: 'topics', key: 'ok', value: 1 },
        { op: 'put', ns: 'topics', key: 'k', value: () => 1 },
      ]),
    ];
    for (const p of bad) expect(isRobustMQError(await p.catch((e: unknown) => e), 'INVALID_ARGUMENT')).toBe(true);
    expect(await store.list('topics')).toEqual([]);
  });

  it('refuses new watches after close', async () => {
    await store.close();
    expect(() => store.watch('topics', () => undefined)).toThrow(/closed/);
  });
});
