/**
 * One partition's range of one object, in memory: the stored batches plus their offsets and timestamps, parsed
 * once when the range is fetched (or written), so reads binary-search numbers instead of walking headers.
 */
import { RobustMQError } from '../../errors.js';
import { BATCH_HEADER_SIZE, readBatchHeader } from '../record-batch.js';

export class Block {
  private constructor(
    readonly data: Buffer,
    private readonly bases: number[],
    private readonly positions: number[],
    private readonly maxTimestamps: number[],
    /** Offset after the last record. */
    readonly next: number,
  ) {}

  /**
   * Parses `data` as whole batches starting at `baseOffset` and ending just before `next`. Anything else (a
   * truncated batch, a gap, the wrong offsets) is CORRUPT_RECORD: the object does not hold what its entry says.
   */
  static parse(data: Buffer, baseOffset: number, next: number): Block {
    const bases: number[] = [];
    const positions: number[] = [];
    const maxTimestamps: number[] = [];
    let pos = 0;
    let expected = baseOffset;
    while (pos < data.length) {
      const h = readBatchHeader(data, pos);
      if (h.size < BATCH_HEADER_SIZE || pos + h.size > data.length || h.baseOffset !== expected) {
        throw new RobustMQError('CORRUPT_RECORD', `S3 range at offset ${baseOffset} is malformed at byte ${pos}`);
      }
      bases.push(h.baseOffset);
      positions.push(pos);
      maxTimestamps.push(h.maxTimestamp);
      expected = h.baseOffset + h.lastOffsetDelta + 1;
      pos += h.size;
    }
    if (expected !== next || bases.length === 0) {
      throw new RobustMQError('CORRUPT_RECORD', `S3 range at offset ${baseOffset} ends at ${expected}, expected ${next}`);
    }
    return new Block(data, bases, positions, maxTimestamps, next);
  }

  get baseOffset(): number {
    return this.bases[0];
  }

  get count(): number {
    return this.bases.length;
  }

  get byteLength(): number {
    return this.data.length;
  }

  batch(i: number): Buffer {
    const end = i + 1 < this.positions.length ? this.positions[i + 1] : this.data.length;
    return this.data.subarray(this.positions[i], end);
  }

  baseOf(i: number): number {
    return this.bases[i];
  }

  /** Offset after the last record of batch `i`. */
  nextOf(i: number): number {
    return i + 1 < this.bases.length ? this.bases[i + 1] : this.next;
  }

  maxTimestampOf(i: number): number {
    return this.maxTimestamps[i];
  }

  /** Index of the batch holding `offset`; 0 below the block, -1 at or past its end. */
  indexOf(offset: number): number {
    if (offset >= this.next) return -1;
    let lo = 0;
    let hi = this.bases.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.bases[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
