/**
 * Decompresses the records section of a Kafka RecordBatch so the bridge can hand records produced by Kafka clients
 * to MQTT subscribers. Every codec of the v2 format is bridged: gzip through node:zlib, Snappy (raw, and the xerial
 * framing the Java client writes) through snappyjs, LZ4 frames through lz4js, Zstandard through fzstd — small
 * pure-JavaScript decoders, so nothing native has to build. Output is capped, so a tiny compressed batch cannot
 * blow up into gigabytes.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import * as lz4 from 'lz4js';
import * as snappy from 'snappyjs';
import { RobustMQError } from '../../errors.js';
import { BATCH_HEADER_SIZE, Compression, compressionOf, type BatchHeader } from '../../storage/record-batch.js';

const gunzipAsync = promisify(gunzip);

/** Largest decompressed records section the bridge accepts. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

const view = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function tooLarge(): RobustMQError {
  return new RobustMQError('RECORD_TOO_LARGE', `decompressed records exceed ${MAX_DECOMPRESSED_BYTES} bytes`);
}

/** Raw Snappy states its uncompressed length first (a little-endian base-128 varint). */
function snappyBlock(data: Buffer, limit: number): Buffer {
  let length = 0;
  for (let i = 0, shift = 1; i < 5 && i < data.length; i++, shift *= 128) {
    length += (data[i] & 0x7f) * shift;
    if ((data[i] & 0x80) === 0) break;
  }
  if (length > limit) throw tooLarge();
  return view(snappy.uncompress(data, limit));
}

function snappyDecode(data: Buffer, limit: number): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyBlock(data, limit);
  // xerial snappy-java framing: 16-byte header, then blocks of [int32 length][raw snappy block].
  const parts: Buffer[] = [];
  let total = 0;
  for (let pos = XERIAL_HEADER; pos < data.length; ) {
    if (pos + 4 > data.length) throw new RangeError('truncated xerial snappy block header');
    const len = data.readInt32BE(pos);
    if (len < 0 || pos + 4 + len > data.length) throw new RangeError('truncated xerial snappy block');
    const block = snappyBlock(data.subarray(pos + 4, pos + 4 + len), limit - total);
    total += block.length;
    parts.push(block);
    pos += 4 + len;
  }
  return Buffer.concat(parts, total);
}

function lz4Decode(data: Buffer, limit: number): Buffer {
  const bound = lz4.decompressBound(data);
  if (bound > limit) throw tooLarge();
  return view(lz4.decompress(data, bound));
}

function zstdDecode(data: Buffer, limit: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  const stream = new ZstdStream((chunk) => {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    parts.push(Buffer.from(chunk));
  });
  stream.push(data, true);
  return Buffer.concat(parts, total);
}

/**
 * The records section of `batch` (the bytes after the 61-byte header), decompressed when the batch is compressed;
 * CORRUPT_RECORD when the codec rejects the bytes.
 */
export async function recordsOf(batch: Buffer, header: BatchHeader, limit = MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  const body = batch.subarray(BATCH_HEADER_SIZE, header.size);
  const codec = compressionOf(header.attributes);
  try {
    switch (codec) {
      case Compression.None:
        return body;
      case Compression.Gzip:
        try {
          return await gunzipAsync(body, { maxOutputLength: limit });
        } catch (err) {
          throw (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge() : err;
        }
      case Compression.Snappy:
        return snappyDecode(body, limit);
      case Compression.Lz4:
        return lz4Decode(body, limit);
      case Compression.Zstd:
        return zstdDecode(body, limit);
      default:
        throw new RangeError(`unknown compression codec ${String(codec)}`);
    }
  } catch (err) {
    if (err instanceof RobustMQError) throw err;
    throw new RobustMQError('CORRUPT_RECORD', `cannot decompress record batch at offset ${header.baseOffset}`, { cause: err });
  }
}
