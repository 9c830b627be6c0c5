/**
 * One process per meta directory. The LOCK file holds the owner's pid; it is created atomically by hard-linking
 * a fully written temp file, so another process never sees it half-written. A lock whose pid is no longer running
 * is stale (the owner crashed) and is taken over.
 *
 * Takeover is best effort: two processes that find the same stale lock at the same instant can both remove it,
 * after which the hard link lets only one of them create the new one.
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RobustMQError } from '../../errors.js';

export const LOCK_FILE = 'LOCK';

/** Directories this process holds, so a second open from the same process is refused too. */
const held = new Set<string>();

export type ReleaseLock = () => Promise<void>;

export async function acquireLock(dir: string): Promise<ReleaseLock> {
  const abs = resolve(dir);
  if (held.has(abs)) {
    throw new RobustMQError('STORAGE_UNAVAILABLE', `meta directory ${abs} is already open in this process`, {
      retriable: false,
    });
  }
  held.add(abs);
  try {
    await createLock(abs);
  } catch (err) {
    held.delete(abs);
    throw err;
  }
  return async () => {
    held.delete(abs);
    if ((await readOwner(abs)) === process.pid) await rm(join(abs, LOCK_FILE), { force: true });
  };
}

async function createLock(dir: string): Promise<void> {
  const lockPath = join(dir, LOCK_FILE);
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(tmp, lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readOwner(dir);
      // Our own pid in a lock we do not hold is a leftover of an earlier process that had the same pid
      // (pid 1 in every container run).
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
        throw new RobustMQError(
          'STORAGE_UNAVAILABLE',
          `meta directory ${dir} is in use by process ${owner} (${lockPath}); stop that process or use another --data-dir`,
          { retriable: false },
        );
      }
      await rm(lockPath, { force: true });
    }
    throw new RobustMQError('STORAGE_UNAVAILABLE', `could not acquire ${lockPath}: it keeps reappearing`);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function readOwner(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
