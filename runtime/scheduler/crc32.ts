/**
 * The scheduler function's stand-in for `@node-rs/crc32`, swapped in by the bundler (SCHEDULER_BUNDLING in
 * infra/scheduler-function.ts). That package is a native addon, which esbuild cannot put in a bundle and which the
 * Lambda runtime does not have; the cluster records module imports its `crc32` (to derive Kafka node ids), a
 * function the scheduler never calls but the bundle must still resolve. Node's zlib computes the same CRC-32
 * (ISO-HDLC polynomial, same `(data, initial)` signature) since Node 20.15; the Lambda runs Node 24.
 */
export { crc32 } from 'node:zlib';
