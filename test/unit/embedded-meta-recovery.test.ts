import { Writable } from 'node:stream';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { FRAME_HEADER_BYTES } from '../../runtime/meta/embedded/frame.js';
import { COMPACT_FILE, LOG_FILE } from '../../runtime/meta/embedded/log-file.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';

let dir: string;
let logFile: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-rec-'));
  logFile = path.join(dir, LOG_FILE);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** [start, end) of every frame in the log file, header first. */
async function frameRanges(): Promise<[number, number][]> {
  const buf = await readFile(logFile);
  const ranges: [number, number][] = [];
  for (let at = 0; at < buf.length; ) {
    const end = at + FRAME_HEADER_BYTES + buf.readUInt32BE(at);
    ranges.push([at, end]);
    at = end;
  }
  return ranges;
}

async function writeKeys(keys: string[], options = {}): Promise<void> {
  const store = await EmbeddedMetaStore.open(dir, options);
  for (const key of keys) await store.put('topics', key, { key });
  await store.close();
}

async function keysAfterReopen(options = {}): Promise<string[]> {
  const store = await EmbeddedMetaStore.open(dir, options);
  const keys = (await store.list('topics')).map((e) => e.key);
  await store.close();
  return keys;
}

function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines };
}

describe('embedded meta store recovery', () => {
  it('drops a torn last frame on reopen, keeps everything before it and appends after it', async () => {
    await writeKeys(['a', 'b', 'c']);
    const [, , b, c] = await frameRanges();
    await truncate(logFile, c[0] + Math.floor((c[1] - c[0]) / 2));
    const { log, lines } = capturingLogger();
    expect(await keysAfterReopen({ log })).toEqual(['a', 'b']);
    expect((await stat(logFile)).size).toBe(b[1]);
    expect(lines.join('')).toContain('"reason":"torn"');
    await writeKeys(['d']);
    expect(await keysAfterReopen()).toEqual(['a', 'b', 'd']);
  });

  it('drops a tail shorter than a frame header', async () => {
    await writeKeys(['a', 'b']);
    const [, , b] = await frameRanges();
    await truncate(logFile, b[0] + 5);
    expect(await keysAfterReopen()).toEqual(['a']);
  });

  it('stops replay at a frame whose CRC does not match, dropping it and everything after', async () => {
    await writeKeys(['a', 'b', 'c']);
    const [, a, b] = await frameRanges();
    const buf = await readFile(logFile);
    buf[b[1] - 2] ^= 0x01;
    await writeFile(logFile, buf);
    const { log, lines } = capturingLogger();
    expect(await keysAfterReopen({ log })).toEqual(['a']);
    expect((await stat(logFile)).size).toBe(a[1]);
    expect(lines.join('')).toContain('"reason":"corrupt"');
  });

  it('refuses a file that does not start with a meta log header', async () => {
    await writeFile(logFile, 'definitely not a robustmq meta log');
    const err = await EmbeddedMetaStore.open(dir).catch((e: unknown) => e);
    expect(isRobustMQError(err, 'CORRUPT_RECORD')).toBe(true);
    expect(await readFile(logFile, 'utf8')).toBe('definitely not a robustmq meta log');
    // The failed open released its lock.
    await writeFile(logFile, '');
    expect(await keysAfterReopen()).toEqual([]);
  });

  it('ignores and removes an unfinished compaction file', async () => {
    await writeKeys(['a']);
    await writeFile(path.join(dir, COMPACT_FILE), 'half a snapshot');
    expect(await keysAfterReopen()).toEqual(['a']);
    await expect(stat(path.join(dir, COMPACT_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('embedded meta store compaction', () => {
  it('shrinks the log and preserves values, versions and deletes', async () => {
    const big = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 1e9 });
    for (let i = 0; i < 400; i++) await big.put('partitions', `p${i % 10}`, { leader: i, pad: 'x'.repeat(40) });
    await big.put('topics', 'gone', 1);
    await big.delete('topics', 'gone');
    await big.close();
    const before = (await stat(logFile)).size;

    const store = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 1024 });
    await store.put('topics', 'trigger', true);
    expect(store.stats().compactions).toBe(1);
    await store.put('topics', 'after', true);
    await store.close();
    const after = (await stat(logFile)).size;
    expect(after).toBeLessThan(before / 10);

    const reopened = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 1e9 });
    const parts = await reopened.list<{ leader: number }>('partitions');
    expect(parts.map((e) => [e.key, e.value.leader, e.version])).toEqual(
      Array.from({ length: 10 }, (_, k) => [`p${k}`, 390 + k, 40]),
    );
    expect((await reopened.list('topics')).map((e) => e.key)).toEqual(['after', 'trigger']);
    expect(await reopened.get('topics', 'gone')).toBeUndefined();
    await reopened.close();
  });

  it('purges expired entries when compacting', async () => {
    const store = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 1e9 });
    await store.put('brokers', 'short-lease', 'b1', { ttlMs: 20 });
    await store.put('brokers', 'long-lease', 'b2', { ttlMs: 60_000 });
    for (let i = 0; i < 50; i++) await store.put('cluster', 'churn', i);
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const compacting = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 256 });
    await compacting.put('cluster', 'churn', 'final');
    expect(compacting.stats().compactions).toBe(1);
    await compacting.close();
    const text = await readFile(logFile, 'utf8');
    expect(text).not.toContain('short-lease');
    expect(text).toContain('long-lease');
  });

  it('keeps compacting as the log grows, holding it near twice the live size', async () => {
    const store = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 2048 });
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('sessions', `s${i}`, { round })));
    }
    const { compactions, logBytes, liveBytes } = store.stats();
    expect(compactions).toBeGreaterThan(2);
    expect(logBytes).toBeLessThanOrEqual(Math.max(2048, 2 * liveBytes) + 4096);
    await store.close();
    const reopened = await EmbeddedMetaStore.open(dir);
    const all = await reopened.list<{ round: number }>('sessions');
    expect(all).toHaveLength(20);
    expect(all.every((e) => e.value.round === 19 && e.version === 20)).toBe(true);
    await reopened.close();
  });
});
