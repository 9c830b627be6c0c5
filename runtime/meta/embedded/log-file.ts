/**
 * The embedded meta store's files in its directory:
 *
 *   meta.log          header frame, then write records (see log-record.ts), appended and fsynced
 *   meta.log.compact  a snapshot being written; renamed over meta.log once complete and fsynced
 *   LOCK              pid of the process that has the directory open (lock.ts)
 *
 * A leftover meta.log.compact is an unfinished compaction and is deleted on open; meta.log is only ever replaced
 * by rename, so it is always either the old or the new file, never a mix.
 */
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../logger.js';
import { RobustMQError } from '../../errors.js';
import { encodeFrame, scanFrames } from './frame.js';
import { headerPayload, isHeader } from './log-record.js';

export const LOG_FILE = 'meta.log';
export const COMPACT_FILE = 'meta.log.compact';

export interface ReplayStats {
  frames: number;
  /** Bytes cut off the end: a torn or corrupt tail. */
  droppedBytes: number;
}

/** An open meta log, positioned for appends. */
export class LogFile {
  private constructor(
    private readonly dir: string,
    private fh: FileHandle,
    /** Current file length: where the next append goes. */
    public size: number,
  ) {}

  /**
   * Opens (creating if missing) the log in `dir` and replays it: `onRecord` gets every write record's payload and
   * returns false for one it cannot use. Replay stops at the first torn, corrupt or unusable frame, and the file is
   * truncated there so later appends follow good data.
   */
  static async open(
    dir: string,
    onRecord: (payload: Buffer) => boolean,
    log?: Logger,
  ): Promise<{ file: LogFile; stats: ReplayStats }> {
    const path = join(dir, LOG_FILE);
    await rm(join(dir, COMPACT_FILE), { force: true });
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (bytes === undefined || bytes.length === 0) {
      await replaceFile(dir, [encodeFrame(headerPayload())]);
      const fh = await open(path, 'r+');
      return { file: new LogFile(dir, fh, (await fh.stat()).size), stats: { frames: 1, droppedBytes: 0 } };
    }
    let first = true;
    const scan = scanFrames(bytes, (payload) => {
      if (!first) return onRecord(payload);
      first = false;
      return isHeader(payload);
    });
    if (scan.frames === 0) {
      // Files are created whole by rename, so a bad header means this is not (or no longer) our file: refuse it.
      throw new RobustMQError('CORRUPT_RECORD', `${path} does not start with a valid robustmq meta log header`, {
        retriable: false,
      });
    }
    const fh = await open(path, 'r+');
    const droppedBytes = bytes.length - scan.goodBytes;
    if (droppedBytes > 0) {
      log?.warn({ path, offset: scan.goodBytes, droppedBytes, reason: scan.stop }, 'meta log: dropping bad tail');
      await fh.truncate(scan.goodBytes);
      await fh.sync();
    }
    return { file: new LogFile(dir, fh, scan.goodBytes), stats: { frames: scan.frames, droppedBytes } };
  }

  /** Appends frames with one write and one data sync. */
  async append(frames: Buffer[]): Promise<void> {
    const expected = frames.reduce((n, f) => n + f.length, 0);
    const { bytesWritten } = await this.fh.writev(frames, this.size);
    if (bytesWritten !== expected) {
      throw new Error(`short write to meta log: ${bytesWritten} of ${expected} bytes`);
    }
    this.size += bytesWritten;
    await this.fh.datasync();
  }

  /**
   * Replaces the whole log with a header plus `frames` (a snapshot), then switches appends to the new file.
   * Throws {@link SnapshotNotInstalled} when it failed before the rename (the old log is untouched and still in use).
   */
  async replace(frames: Buffer[]): Promise<void> {
    const all = [encodeFrame(headerPayload()), ...frames];
    await replaceFile(this.dir, all);
    const fh = await open(join(this.dir, LOG_FILE), 'r+');
    const old = this.fh;
    this.fh = fh;
    this.size = all.reduce((n, f) => n + f.length, 0);
    await old.close();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A snapshot could not be written; meta.log was not replaced. */
export class SnapshotNotInstalled extends Error {
  constructor(cause: unknown) {
    super('meta log snapshot was not installed', { cause });
    this.name = 'SnapshotNotInstalled';
  }
}

/** Writes `frames` to the temp file, fsyncs it, renames it over meta.log and fsyncs the directory. */
async function replaceFile(dir: string, frames: Buffer[]): Promise<void> {
  const tmp = join(dir, COMPACT_FILE);
  try {
    const fh = await open(tmp, 'w');
    try {
      for (let i = 0; i < frames.length; i += 1024) {
        await writeAll(fh, frames.slice(i, i + 1024));
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, LOG_FILE));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new SnapshotNotInstalled(err);
  }
  await syncDir(dir);
}

async function writeAll(fh: FileHandle, frames: Buffer[]): Promise<void> {
  const expected = frames.reduce((n, f) => n + f.length, 0);
  const { bytesWritten } = await fh.writev(frames);
  if (bytesWritten !== expected) throw new Error(`short write: ${bytesWritten} of ${expected} bytes`);
}

/** Makes a rename (or a file creation) in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
