import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { LOCK_FILE } from '../../runtime/meta/embedded/lock.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';

let dir: string;
let lockPath: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-lock-'));
  lockPath = path.join(dir, LOCK_FILE);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function openError(): Promise<unknown> {
  return EmbeddedMetaStore.open(dir).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (err: unknown) => err,
  );
}

describe('embedded meta store directory lock', () => {
  it('writes our pid to LOCK while open and removes it on close', async () => {
    const store = await EmbeddedMetaStore.open(dir);
    expect(await readFile(lockPath, 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a second open of the same directory from this process', async () => {
    const store = await EmbeddedMetaStore.open(dir);
    const err = await openError();
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('already open in this process');
    await store.put('topics', 'still-works', 1);
    await store.close();
    const again = await EmbeddedMetaStore.open(path.join(dir, '.'));
    expect(await again.get('topics', 'still-works')).toMatchObject({ value: 1 });
    await again.close();
  });

  it('refuses a lock held by another live process, naming it', async () => {
    // The test runner's parent process is alive and is not us.
    await writeFile(lockPath, `${process.ppid}\n`);
    const err = await openError();
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`in use by process ${process.ppid}`);
    expect(await readFile(lockPath, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    await writeFile(lockPath, `${child.pid}\n`);
    expect(await openError()).toBeUndefined();
  });

  it('takes over a leftover lock carrying our own pid (pid reuse, e.g. pid 1 in containers)', async () => {
    await writeFile(lockPath, `${process.pid}\n`);
    expect(await openError()).toBeUndefined();
  });

  it('takes over an unreadable lock file', async () => {
    await writeFile(lockPath, 'garbage');
    expect(await openError()).toBeUndefined();
  });
});
