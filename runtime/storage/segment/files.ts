/**
 * File naming and the few positioned-I/O primitives the segment engine needs. Callback `fs` calls wrapped by hand
 * rather than `fs/promises` FileHandles: the pool hands out plain descriptors, and these avoid a FileHandle object
 * per open file.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const CHECKPOINT_FILE = 'partition.checkpoint';
/** Files being rewritten atomically carry this suffix until renamed; leftovers are removed on open. */
export const TMP_SUFFIX = '.tmp';

/** Kafka's convention: the base offset zero-padded to 20 digits, so names sort in offset order. */
export function segmentFileName(base: number, suffix: string): string {
  return String(base).padStart(20, '0') + suffix;
}

export function segmentPaths(dir: string, base: number): { log: string; index: string; timeIndex: string } {
  return {
    log: join(dir, segmentFileName(base, LOG_SUFFIX)),
    index: join(dir, segmentFileName(base, INDEX_SUFFIX)),
    timeIndex: join(dir, segmentFileName(base, TIME_INDEX_SUFFIX)),
  };
}

export function parseSegmentFileName(name: string): { base: number; suffix: string } | undefined {
  const m = /^(\d{20})(\.log|\.index|\.timeindex)$/.exec(name);
  if (!m) return undefined;
  const base = Number(m[1]);
  return Number.isSafeInteger(base) ? { base, suffix: m[2] } : undefined;
}

/** Reads up to `length` bytes at `position`, looping over short reads; returns the bytes actually present. */
export function readAt(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done === length) return resolve(buf);
      fs.read(fd, buf, done, length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return resolve(buf.subarray(0, done));
        step(done + n);
      });
    };
    step(0);
  });
}

/** Writes every buffer at `position`, in order (one writev; libuv retries short writes). */
export function writeAt(fd: number, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  return new Promise((resolve, reject) => {
    fs.writev(fd, buffers, position, (err, written) => {
      if (err) return reject(err);
      if (written !== total) return reject(new Error(`short write: ${written} of ${total} bytes`));
      resolve();
    });
  });
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function ftruncate(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, length, (err) => (err ? reject(err) : resolve())));
}

export function fileSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st.size))));
}

/** Makes a directory's entries (created, renamed or removed files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
