/**
 * Walks the batches of a log file from a position without reading the file whole: one chunk (64 KiB by default)
 * in memory at a time, or a single batch when a batch is larger than the chunk.
 */
import { crc32c } from '@node-rs/crc32';
import { BATCH_HEADER_SIZE, readBatchHeader, type BatchHeader } from '../record-batch.js';
import { readAt } from './files.js';

export const SCAN_CHUNK_BYTES = 64 * 1024;
const CRC_START = 21;

export class BatchScanner {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkStart = 0;
  /** Position of the next batch. */
  position: number;

  constructor(
    private readonly fd: number,
    start: number,
    /** Bytes of the file that may be read (the file size, or the readable end of the segment). */
    private readonly end: number,
    private readonly chunkBytes = SCAN_CHUNK_BYTES,
  ) {
    this.position = start;
  }

  /**
   * The header of the next batch (its `position` is the file position), or undefined at the end. A batch whose
   * declared length runs past `end` or is too small to be a batch also ends the scan: `position` then points at it,
   * which recovery treats as the start of a torn tail.
   */
  async next(): Promise<BatchHeader | undefined> {
    const pos = this.position;
    if (this.end - pos < BATCH_HEADER_SIZE) return undefined;
    const view = await this.view(pos, BATCH_HEADER_SIZE);
    const header = readBatchHeader(view, 0);
    if (header.size < BATCH_HEADER_SIZE || pos + header.size > this.end) return undefined;
    header.position = pos;
    this.position = pos + header.size;
    return header;
  }

  /** The complete bytes of a batch returned by {@link next} (a view into the chunk when it fits). */
  bytes(header: BatchHeader): Promise<Buffer> {
    return this.view(header.position, header.size);
  }

  /** Is the batch whole and intact: magic 2, consistent counts, CRC32C over attributes..end? */
  async intact(header: BatchHeader): Promise<boolean> {
    if (header.magic !== 2 || header.lastOffsetDelta < 0 || header.recordCount < 0) return false;
    if (header.recordCount > 0 && header.lastOffsetDelta + 1 < header.recordCount) return false;
    const buf = await this.bytes(header);
    return crc32c(buf.subarray(CRC_START)) === header.crc;
  }

  private async view(pos: number, length: number): Promise<Buffer> {
    const offset = pos - this.chunkStart;
    if (offset >= 0 && offset + length <= this.chunk.length) return this.chunk.subarray(offset, offset + length);
    const want = Math.min(Math.max(length, this.chunkBytes), this.end - pos);
    const data = await readAt(this.fd, pos, want);
    if (data.length < length) throw new Error(`log file ended early at ${pos + data.length} (expected ${pos + length})`);
    if (length > this.chunkBytes) return data.subarray(0, length);
    this.chunk = data;
    this.chunkStart = pos;
    return data.subarray(0, length);
  }
}
