/**
 * The batches of one in-memory partition, oldest first, in parallel arrays: the stored bytes, each batch's base
 * offset (for binary search) and its maxTimestamp (so time lookups scan plain numbers, not buffers).
 * Batches are dense: each one starts where the previous one ended, and the list ends at `end` (the high watermark).
 */
export class BatchList<Owner = unknown> {
  private buffers: Buffer[] = [];
  /** What each batch's bytes live in (told when the batch is dropped), or undefined. */
  private owners: Array<Owner | undefined> = [];
  private bases: number[] = [];
  private maxTimestamps: number[] = [];
  private bytes = 0;

  constructor(
    /** Called for each dropped batch that has an owner. */
    private readonly onDrop: (owner: Owner) => void = () => undefined,
    private endOffset = 0,
  ) {}

  get length(): number {
    return this.buffers.length;
  }

  /** Offset just after the last record (the high watermark). */
  get end(): number {
    return this.endOffset;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Adds a batch at the end; `nextOffset` is the offset after its last record. */
  push(batch: Buffer, baseOffset: number, nextOffset: number, maxTimestamp: number, owner?: Owner): void {
    this.buffers.push(batch);
    this.owners.push(owner);
    this.bases.push(baseOffset);
    this.maxTimestamps.push(maxTimestamp);
    this.bytes += batch.length;
    this.endOffset = nextOffset;
  }

  batch(i: number): Buffer {
    return this.buffers[i];
  }

  owner(i: number): Owner | undefined {
    return this.owners[i];
  }

  baseOffset(i: number): number {
    return this.bases[i];
  }

  /** Offset after the last record of batch `i`. */
  nextOffset(i: number): number {
    return i + 1 < this.bases.length ? this.bases[i + 1] : this.endOffset;
  }

  maxTimestamp(i: number): number {
    return this.maxTimestamps[i];
  }

  /** Index of the batch containing `offset`, or -1 when no stored batch does. */
  indexOf(offset: number): number {
    if (this.bases.length === 0 || offset < this.bases[0] || offset >= this.endOffset) return -1;
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Drops the first `count` batches. Splicing (rather than nulling slots behind a head index) lets the dropped
   * buffers be collected at once.
   */
  dropFirst(count: number): void {
    if (count <= 0) return;
    for (let i = 0; i < count; i++) {
      this.bytes -= this.buffers[i].length;
      const owner = this.owners[i];
      if (owner !== undefined) this.onDrop(owner);
    }
    this.buffers.splice(0, count);
    this.owners.splice(0, count);
    this.bases.splice(0, count);
    this.maxTimestamps.splice(0, count);
  }

  /** Number of leading batches satisfying `predicate` (stops at the first that does not). */
  countLeading(predicate: (i: number) => boolean): number {
    let n = 0;
    while (n < this.buffers.length && predicate(n)) n++;
    return n;
  }

  /** Releases every batch; the end offset is kept. */
  clear(): void {
    this.buffers = [];
    this.owners = [];
    this.bases = [];
    this.maxTimestamps = [];
    this.bytes = 0;
  }
}
