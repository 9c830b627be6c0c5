/** Type declarations for the two decompression libraries that ship none (only the functions the bridge calls). */
declare module 'snappyjs' {
  /** Raw (unframed) Snappy; throws on a corrupt stream or when the stated length exceeds `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}

declare module 'lz4js' {
  /** Upper bound of the decompressed size of an LZ4 frame, read from its descriptor and block headers. */
  export function decompressBound(src: Uint8Array): number;
  /** Decompresses one LZ4 frame into a buffer of `maxSize` bytes; returns the bytes written. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
}
