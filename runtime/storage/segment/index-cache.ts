/**
 * Bounds the memory held by loaded sparse indexes across all partitions of an engine: a least-recently-used set
 * with a byte budget. An evicted index drops its in-memory copy and reloads it from its file on the next lookup.
 */
export interface CachedIndex {
  /** Drops the in-memory copy. */
  evict(): void;
}

export class IndexCache {
  /** Map order is recency order. */
  private readonly sizes = new Map<CachedIndex, number>();
  private used = 0;

  constructor(readonly budgetBytes: number) {
    if (!Number.isInteger(budgetBytes) || budgetBytes < 0) {
      throw new RangeError(`indexCacheBytes must be a non-negative integer, got ${budgetBytes}`);
    }
  }

  get usedBytes(): number {
    return this.used;
  }

  /** Records that `index` was used and now holds `bytes`; evicts the least recently used others over budget. */
  touch(index: CachedIndex, bytes: number): void {
    const before = this.sizes.get(index);
    if (before !== undefined) {
      this.sizes.delete(index);
      this.used -= before;
    }
    this.sizes.set(index, bytes);
    this.used += bytes;
    if (this.used <= this.budgetBytes) return;
    for (const [other, size] of this.sizes) {
      if (this.used <= this.budgetBytes) break;
      if (other === index) continue;
      this.sizes.delete(other);
      this.used -= size;
      other.evict();
    }
  }

  /** Forgets `index` without calling evict (it was deleted or unloaded by its owner). */
  remove(index: CachedIndex): void {
    const size = this.sizes.get(index);
    if (size === undefined) return;
    this.sizes.delete(index);
    this.used -= size;
  }
}
