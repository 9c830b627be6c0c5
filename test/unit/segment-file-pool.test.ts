import { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool } from '../../runtime/storage/segment/file-pool.js';
import { readAt, writeAt } from '../../runtime/storage/segment/files.js';
import { tempDir } from '../helpers/batches.js';
import { until } from '../helpers/groups.js';

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('FilePool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('robustmq-pool-');
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('keeps at most max idle descriptors open, closing the least recently used', async () => {
    const pool = new FilePool(3);
    const before = openFds();
    const paths = Array.from({ length: 10 }, (_, i) => join(dir, `f${i}`));
    for (const p of paths) await pool.use(p, (fd) => writeAt(fd, [Buffer.from(p)], 0), true);
    expect(pool.openCount).toBe(3);
    await until(() => openFds() - before <= 3); // closes are asynchronous: wait for the evicted ones to finish
    expect(openFds() - before).toBeLessThanOrEqual(3);
    // The most recent three are still open: using them opens nothing new.
    for (const p of paths.slice(7)) await pool.use(p, async () => undefined);
    expect(pool.openCount).toBe(3);
    // An evicted file reopens transparently with its content.
    const text = await pool.use(paths[0], async (fd) => (await readAt(fd, 0, 100)).toString());
    expect(text).toBe(paths[0]);
    pool.closeAll();
    expect(pool.openCount).toBe(0);
  });

  it('never closes a descriptor while it is borrowed, and exceeds the cap only meanwhile', async () => {
    const pool = new FilePool(2);
    const paths = Array.from({ length: 5 }, (_, i) => join(dir, `b${i}`));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const borrowed = Promise.all(paths.map((p) => pool.use(p, async (fd) => {
      await gate;
      await writeAt(fd, [Buffer.from('still open')], 0); // would fail with EBADF had it been closed
      return fd;
    }, true)));
    await until(() => pool.openCount === 5); // all five opened (asynchronously) and none closed while borrowed
    expect(pool.openCount).toBe(5);
    release();
    await borrowed;
    expect(pool.openCount).toBe(2);
    for (const p of paths) expect(await fsp.readFile(p, 'utf8')).toBe('still open');
    pool.closeAll();
  });

  it('does not create a missing file unless asked, and forget closes a deleted file once returned', async () => {
    const pool = new FilePool(4);
    const path = join(dir, 'gone');
    await expect(pool.use(path, async () => undefined)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fsp.stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await pool.use(path, async () => undefined, true);
    expect(pool.openCount).toBe(1);
    let inside = 0;
    await pool.use(path, async () => {
      pool.forget(path);
      inside = pool.openCount;
    });
    expect(inside).toBe(1);
    expect(pool.openCount).toBe(0);
    pool.closeAll();
    await expect(pool.use(path, async () => undefined)).rejects.toThrow(/closed/);
  });
});
