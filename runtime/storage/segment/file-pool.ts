/**
 * A least-recently-used pool of open file descriptors shared by every partition of an engine, so 10,000 partitions
 * with several segments each stay far below the process's descriptor limit. Files in use are never closed under
 * their user: the cap is soft while more than `max` files are borrowed at once, and idle files go first.
 */
import * as fs from 'node:fs';

interface Entry {
  fd?: number;
  opening: Promise<number>;
  refs: number;
  /** Removed from the pool (file deleted or replaced): closed as soon as the last borrower returns it. */
  doomed: boolean;
}

export class FilePool {
  /** Map order is recency order: a borrowed entry is moved to the end. */
  private readonly entries = new Map<string, Entry>();
  private open = 0;
  private closed = false;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxOpenFiles must be a positive integer, got ${max}`);
  }

  /** Descriptors currently open. */
  get openCount(): number {
    return this.open;
  }

  /**
   * Runs `fn` with a read-write descriptor of `path`. With `create` a missing file is made; otherwise a missing
   * file rejects with ENOENT (so a reader racing with retention never resurrects a deleted segment).
   */
  async use<T>(path: string, fn: (fd: number) => Promise<T>, create = false): Promise<T> {
    const entry = this.borrow(path, create);
    let fd: number;
    try {
      fd = entry.fd ?? (await entry.opening);
    } catch (err) {
      this.giveBack(entry);
      throw err;
    }
    try {
      return await fn(fd);
    } finally {
      this.giveBack(entry);
    }
  }

  /** Closes `path` now if idle, else when its borrowers return it. Call before deleting or replacing the file. */
  forget(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    entry.doomed = true;
    if (entry.refs === 0) this.closeEntry(entry);
  }

  /** Closes every descriptor (borrowed ones when returned); the pool refuses further use. */
  closeAll(): void {
    this.closed = true;
    for (const path of [...this.entries.keys()]) this.forget(path);
  }

  private borrow(path: string, create: boolean): Entry {
    if (this.closed) throw new Error('file pool closed');
    let entry = this.entries.get(path);
    if (entry) {
      this.entries.delete(path);
    } else {
      const flags = fs.constants.O_RDWR | (create ? fs.constants.O_CREAT : 0);
      const fresh: Entry = { refs: 0, doomed: false, opening: undefined as unknown as Promise<number> };
      // Plain descriptors, not FileHandles: a FileHandle closes its fd on garbage collection.
      fresh.opening = openFd(path, flags).then(
        (fd) => {
          this.open++;
          fresh.fd = fd;
          return fd;
        },
        (err: unknown) => {
          if (this.entries.get(path) === fresh) this.entries.delete(path);
          fresh.doomed = true;
          throw err;
        },
      );
      fresh.opening.catch(() => undefined);
      entry = fresh;
    }
    this.entries.set(path, entry);
    entry.refs++;
    this.evictIdle();
    return entry;
  }

  private giveBack(entry: Entry): void {
    entry.refs--;
    if (entry.refs === 0 && entry.doomed) this.closeEntry(entry);
    else this.evictIdle();
  }

  private closeEntry(entry: Entry): void {
    const fd = entry.fd;
    if (fd === undefined) return;
    entry.fd = undefined;
    this.open--;
    fs.close(fd, () => undefined);
  }

  private evictIdle(): void {
    if (this.entries.size <= this.max) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.max) return;
      if (entry.refs === 0 && entry.fd !== undefined) {
        this.entries.delete(path);
        this.closeEntry(entry);
      }
    }
  }
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}
