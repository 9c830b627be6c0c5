/**
 * The per-partition checkpoint file: the log start offset (Kafka keeps it in log-start-offset-checkpoint) and,
 * after a clean close only, the state of the active segment so the next open can skip scanning it. Written
 * atomically: temp file, fdatasync, rename, directory fsync.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, fsyncDir, isNotFound, TMP_SUFFIX } from './files.js';

/** The active segment as it was at a clean close. */
export interface CleanState {
  base: number;
  size: number;
  nextOffset: number;
  lastBatchPos: number;
  maxTs: number;
  maxTsOffset: number;
}

export interface Checkpoint {
  logStartOffset: number;
  clean?: CleanState;
}

const VERSION = 1;

function isCount(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

function parseClean(v: unknown): CleanState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Record<string, unknown>;
  const ok =
    isCount(c.base) &&
    isCount(c.size) &&
    isCount(c.nextOffset) &&
    isCount(c.lastBatchPos, -1) &&
    isCount(c.maxTs, -Number.MAX_SAFE_INTEGER) &&
    isCount(c.maxTsOffset);
  return ok ? (c as unknown as CleanState) : undefined;
}

/** Reads the checkpoint; a missing or unreadable one yields undefined (the caller derives what it can). */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    if (data.version !== VERSION || !isCount(data.logStartOffset)) return undefined;
    const clean = parseClean(data.clean);
    return { logStartOffset: data.logStartOffset, ...(clean ? { clean } : {}) };
  } catch {
    return undefined;
  }
}

export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const path = join(dir, CHECKPOINT_FILE);
  const tmp = path + TMP_SUFFIX;
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify({ version: VERSION, ...checkpoint }));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path);
  await fsyncDir(dir);
}
