/**
 * The read cache: parsed ranges (blocks) by object key and position, least recently used first out, bounded by
 * the bytes it holds. Freshly committed ranges are put here by the writer, so tail consumers read the newest data
 * from memory; concurrent misses on one range share a single GET.
 */
import type { Block } from './block.js';

export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  blocks: number;
  evictions: number;
}

export class BlockCache {
  /** Map iteration order is insertion order: re-inserting on use makes the first key the least recently used. */
  private readonly blocks = new Map<string, Block>();
  private readonly loading = new Map<string, Promise<Block>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private readonly capacityBytes: number) {}

  static keyOf(objectKey: string, position: number): string {
    return `${objectKey}@${position}`;
  }

  get(key: string): Block | undefined {
    const block = this.blocks.get(key);
    if (block) {
      this.blocks.delete(key);
      this.blocks.set(key, block);
    }
    return block;
  }

  has(key: string): boolean {
    return this.blocks.has(key) || this.loading.has(key);
  }

  /** Adds a block; one larger than the whole cache is not kept. */
  set(key: string, block: Block): void {
    const old = this.blocks.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.blocks.delete(key);
    }
    if (block.byteLength > this.capacityBytes) return;
    this.blocks.set(key, block);
    this.bytes += block.byteLength;
    for (const [k, b] of this.blocks) {
      if (this.bytes <= this.capacityBytes) break;
      this.blocks.delete(k);
      this.bytes -= b.byteLength;
      this.evictions++;
    }
  }

  /**
   * The cached block, or the result of `load` (shared by concurrent callers), which is then cached. A caller that
   * joined someone else's load and saw it fail starts its own while its `deadline` allows: the failed load may have
   * been started long before, with less time left than this caller has.
   */
  async load(key: string, load: () => Promise<Block>, deadline = 0): Promise<Block> {
    const cached = this.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    const joined = this.loading.get(key);
    if (joined) {
      try {
        return await joined;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        return this.load(key, load, deadline);
      }
    }
    this.misses++;
    const pending = load().then(
      (block) => {
        this.loading.delete(key);
        this.set(key, block);
        return block;
      },
      (err: unknown) => {
        this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, pending);
    return pending;
  }

  clear(): void {
    this.blocks.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.bytes, blocks: this.blocks.size, evictions: this.evictions };
  }
}
