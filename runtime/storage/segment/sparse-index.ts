/**
 * A sparse index file: fixed-size entries sorted by key, one every `indexIntervalBytes` of log (Kafka's `.index`
 * and `.timeindex` layouts). New entries collect in a small in-memory tail that is written to the file in batches;
 * lookups load the whole file into memory through the engine's {@link IndexCache}, which may evict it again.
 *
 * All mutations (append, persist, reset) come from the partition's serialized writer; lookups may run concurrently
 * with them.
 */
import type { FilePool } from './file-pool.js';
import { fdatasync, ftruncate, readAt, writeAt } from './files.js';
import type { CachedIndex, IndexCache } from './index-cache.js';

export interface IndexEntry {
  key: number;
  value: number;
}

export interface IndexLayout {
  readonly entrySize: number;
  readKey(buf: Buffer, i: number): number;
  readValue(buf: Buffer, i: number): number;
  write(buf: Buffer, i: number, key: number, value: number): void;
}

/** `.index`: relative offset (uint32) → byte position in the log (uint32). */
export const OFFSET_LAYOUT: IndexLayout = {
  entrySize: 8,
  readKey: (buf, i) => buf.readUInt32BE(i * 8),
  readValue: (buf, i) => buf.readUInt32BE(i * 8 + 4),
  write(buf, i, key, value) {
    buf.writeUInt32BE(key, i * 8);
    buf.writeUInt32BE(value, i * 8 + 4);
  },
};

/** `.timeindex`: largest timestamp so far (int64) → relative offset of the batch that first reached it (uint32). */
export const TIME_LAYOUT: IndexLayout = {
  entrySize: 12,
  readKey: (buf, i) => Number(buf.readBigInt64BE(i * 12)),
  readValue: (buf, i) => buf.readUInt32BE(i * 12 + 8),
  write(buf, i, key, value) {
    buf.writeBigInt64BE(BigInt(key), i * 12);
    buf.writeUInt32BE(value, i * 12 + 8);
  },
};

/** Tail entries are written to the file once this many have collected (and at roll, flush and close). */
export const PERSIST_BATCH = 128;

export class SparseIndex implements CachedIndex {
  private fileCount = 0;
  private tail: Buffer = Buffer.alloc(0);
  private tailCount = 0;
  /** The loaded entries (its length is the capacity; `count` entries are valid). */
  private mem?: Buffer;
  private loading?: Promise<Buffer>;
  private exclusive: Promise<unknown> = Promise.resolve();
  /** The last entry, kept so appends can stay monotonic without loading the file. */
  last?: IndexEntry;

  constructor(
    readonly path: string,
    readonly layout: IndexLayout,
    private readonly pool: FilePool,
    private readonly cache: IndexCache,
  ) {}

  get count(): number {
    return this.fileCount + this.tailCount;
  }

  get unpersisted(): number {
    return this.tailCount;
  }

  /** Trusts the first `count` entries of the file; `entries`, when given, is their content (kept loaded). */
  adopt(count: number, last: IndexEntry | undefined, entries?: Buffer): void {
    this.dropMemory();
    this.fileCount = count;
    this.tailCount = 0;
    this.last = last;
    if (entries) {
      this.mem = entries;
      this.cache.touch(this, entries.length);
    }
  }

  append(key: number, value: number): void {
    const size = this.layout.entrySize;
    if (this.tail.length < (this.tailCount + 1) * size) this.tail = grow(this.tail, size, this.tailCount);
    this.layout.write(this.tail, this.tailCount++, key, value);
    if (this.mem) {
      const n = this.count - 1;
      if (this.mem.length < (n + 1) * size) {
        this.mem = grow(this.mem, size, n);
        this.cache.touch(this, this.mem.length);
      }
      this.layout.write(this.mem, n, key, value);
    }
    this.last = { key, value };
  }

  /** Writes the collected tail to the file. */
  persist(): Promise<void> {
    return this.serial(async () => {
      const n = this.tailCount;
      const size = this.layout.entrySize;
      if (n === 0) {
        await this.pool.use(this.path, async () => undefined, true);
        return;
      }
      const data = this.tail.subarray(0, n * size);
      await this.pool.use(this.path, (fd) => writeAt(fd, [data], this.fileCount * size), true);
      this.fileCount += n;
      this.tail.copyWithin(0, n * size, this.tailCount * size);
      this.tailCount -= n;
    });
  }

  /** Empties the index and its file (before a rebuild). */
  reset(): Promise<void> {
    return this.serial(async () => {
      this.dropMemory();
      this.fileCount = 0;
      this.tailCount = 0;
      this.last = undefined;
      await this.pool.use(this.path, (fd) => ftruncate(fd, 0), true);
    });
  }

  sync(): Promise<void> {
    return this.pool.use(this.path, fdatasync, true);
  }

  /** The entry with the largest key <= `key`, or undefined when every key is larger. */
  async floor(key: number): Promise<IndexEntry | undefined> {
    const count = this.count;
    if (count === 0) return undefined;
    if (this.last && this.last.key <= key) return this.last;
    const buf = await this.load();
    let lo = 0;
    let hi = Math.min(count, buf.length / this.layout.entrySize) - 1;
    if (this.layout.readKey(buf, 0) > key) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.layout.readKey(buf, mid) <= key) lo = mid;
      else hi = mid - 1;
    }
    return { key: this.layout.readKey(buf, lo), value: this.layout.readValue(buf, lo) };
  }

  evict(): void {
    this.mem = undefined;
  }

  /** Releases memory and the descriptor (the file is about to be deleted or the partition closed). */
  release(): void {
    this.dropMemory();
    this.pool.forget(this.path);
  }

  private dropMemory(): void {
    this.mem = undefined;
    this.cache.remove(this);
  }

  /** Loads the entries: the file's persisted part followed by the tail. */
  private async load(): Promise<Buffer> {
    if (this.mem) {
      this.cache.touch(this, this.mem.length);
      return this.mem;
    }
    this.loading ??= this.serial(async () => {
      const size = this.layout.entrySize;
      const want = this.fileCount * size;
      const stored = want === 0 ? Buffer.alloc(0) : await this.pool.use(this.path, (fd) => readAt(fd, 0, want));
      if (stored.length !== want) throw new Error(`index ${this.path} is shorter than expected`);
      const buf = Buffer.concat([stored, this.tail.subarray(0, this.tailCount * size)]);
      this.mem = buf;
      this.cache.touch(this, buf.length);
      return buf;
    }).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }
}

function grow(buf: Buffer, entrySize: number, used: number): Buffer {
  const next = Buffer.alloc(Math.max(buf.length * 2, 64 * entrySize));
  buf.copy(next, 0, 0, used * entrySize);
  return next;
}
