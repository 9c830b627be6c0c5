/**
 * Frames of the embedded meta log. Each frame is
 *
 *   u32 BE payload length | u32 BE CRC32C(length bytes ++ payload) | payload (UTF-8 JSON)
 *
 * The CRC also covers the length so a flipped length bit is caught instead of sending the scan into the weeds.
 * Pure functions: bytes in, frames out.
 */
import { crc32c } from '@node-rs/crc32';

export const FRAME_HEADER_BYTES = 8;
/** Sanity bound for one frame; a larger length field is treated as corruption. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_BYTES) throw new RangeError(`meta log frame of ${payload.length} bytes is too large`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32c(payload, crc32c(frame.subarray(0, 4))), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export type ScanStop = 'end' | 'torn' | 'corrupt';

export interface ScanResult {
  /** Bytes from the start of the buffer up to the end of the last good frame. */
  goodBytes: number;
  frames: number;
  /** Why the scan stopped: clean end, an incomplete frame at the tail, or a CRC/length mismatch. */
  stop: ScanStop;
}

/**
 * Walks the frames in `buf`, calling `onFrame` with each payload in order. `onFrame` returns false to reject a
 * frame whose CRC matched but whose content is unusable; the scan then stops there as 'corrupt'.
 */
export function scanFrames(buf: Buffer, onFrame: (payload: Buffer) => boolean): ScanResult {
  let offset = 0;
  let frames = 0;
  while (offset < buf.length) {
    if (buf.length - offset < FRAME_HEADER_BYTES) return { goodBytes: offset, frames, stop: 'torn' };
    const length = buf.readUInt32BE(offset);
    const expected = buf.readUInt32BE(offset + 4);
    if (length > MAX_FRAME_BYTES) return { goodBytes: offset, frames, stop: 'corrupt' };
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > buf.length) return { goodBytes: offset, frames, stop: 'torn' };
    const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
    const actual = crc32c(payload, crc32c(buf.subarray(offset, offset + 4)));
    if (actual !== expected) return { goodBytes: offset, frames, stop: 'corrupt' };
    if (!onFrame(payload)) return { goodBytes: offset, frames, stop: 'corrupt' };
    offset = end;
    frames++;
  }
  return { goodBytes: offset, frames, stop: 'end' };
}
