/**
 * Where a partition's committed records are: its ranges in offset order, each naming the object and byte span
 * holding it. Ranges are dense — each starts where the previous one ended — so a binary search on base offsets
 * finds the range holding any offset.
 */

export interface IndexEntry {
  readonly objectKey: string;
  /** Offset of the first record. */
  readonly base: number;
  /** Offset after the last record. */
  readonly next: number;
  readonly position: number;
  readonly size: number;
  readonly maxTimestamp: number;
}

export class PartitionIndex {
  private entries: IndexEntry[] = [];
  private bytes = 0;

  get length(): number {
    return this.entries.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  at(i: number): IndexEntry {
    return this.entries[i];
  }

  /** Offset after the last indexed record, or undefined when empty. */
  get end(): number | undefined {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].next : undefined;
  }

  /** Index of the entry holding `offset`, or -1 when none does. */
  find(offset: number): number {
    const e = this.entries;
    if (e.length === 0 || offset < e[0].base || offset >= e[e.length - 1].next) return -1;
    let lo = 0;
    let hi = e.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (e[mid].base <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Appends an entry; it must start where the index ends. */
  push(entry: IndexEntry): void {
    const end = this.end;
    if (end !== undefined && entry.base !== end) {
      throw new Error(`index gap: range at ${entry.base} after end ${end}`);
    }
    this.entries.push(entry);
    this.bytes += entry.size;
  }

  /** Number of leading entries satisfying `predicate` (stops at the first that does not). */
  countLeading(predicate: (entry: IndexEntry) => boolean): number {
    let n = 0;
    while (n < this.entries.length && predicate(this.entries[n])) n++;
    return n;
  }

  dropLeading(count: number): IndexEntry[] {
    const dropped = this.entries.splice(0, count);
    for (const e of dropped) this.bytes -= e.size;
    return dropped;
  }

  /**
   * Compaction: `entry` now holds the records of the entries inside [entry.base, entry.next). They are replaced
   * when they cover that span exactly, or only its tail (retention took the head meanwhile). Returns false when the
   * span is no longer indexed as expected, so the caller keeps the old entries.
   */
  replaceSpan(entry: IndexEntry, sources: ReadonlySet<string>): boolean {
    const first = this.entries.findIndex((e) => e.next > entry.base);
    if (first < 0) return false;
    let last = first;
    while (last < this.entries.length && this.entries[last].next <= entry.next) last++;
    const span = this.entries.slice(first, last);
    if (span.length === 0 || span[span.length - 1].next !== entry.next) return false;
    if (span[0].base < entry.base || span.some((e) => !sources.has(e.objectKey))) return false;
    this.entries.splice(first, span.length, entry);
    this.bytes += entry.size - span.reduce((n, e) => n + e.size, 0);
    return true;
  }

  /** Every entry, oldest first (a copy). */
  all(): IndexEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
  }
}
