/** Type declarations for the two compression libraries that ship none (the functions the bridge and its tests call). */
declare module 'snappyjs' {
  /** Raw (unframed) Snappy; throws on a corrupt stream or when the stated length exceeds `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  /** Raw Snappy (tests build compressed batches with it). */
  export function compress(uncompressed: Uint8Array): Uint8Array;
}

declare module 'lz4js' {
  /** Upper bound of the decompressed size of an LZ4 frame, read from its descriptor and block headers. */
  export function decompressBound(src: Uint8Array): number;
  /** Decompresses one LZ4 frame into a buffer of `maxSize` bytes; returns the bytes written. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** One LZ4 frame (tests build compressed batches with it). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
}
