/**
 * Shared settings of the Kafka fuzz tests: a fixed seed and a bounded number of runs per property, so `npm test`
 * stays fast and reproducible; `npm run fuzz` raises FUZZ_RUNS for a long run (and FUZZ_SEED picks another seed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
export const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
/** A long run may take its time; the bounded run keeps vitest's default. */
export const TIMEOUT_MS = RUNS > 5000 ? 24 * 3600 * 1000 : 60_000;
/** Any single decode of at most a few KB taking this long counts as a hang. */
export const HANG_MS = 1000;

export function settings(offset: number): fc.Parameters<unknown> {
  return { seed: SEED + offset, numRuns: RUNS };
}

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kafka');

/** Request frames (without size prefix) captured from kafkajs and kcat. */
export const FIXTURES: ReadonlyArray<{ name: string; frame: Buffer }> = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.hex'))
  .sort()
  .map((name) => ({ name, frame: Buffer.from(readFileSync(path.join(fixtureDir, name), 'utf8').trim(), 'hex') }));

/** Byte flips, truncation and insertion applied to a valid frame. */
export function mutationOf(frames: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
    // Lengths and counts are where decoders go wrong: write extreme int16/int32 values at random places.
    fc.record({ kind: fc.constant('int' as const), at: fc.nat(), value: fc.constantFrom(-2, -1, 0, 0x7fff, 0x7fffffff, -0x80000000) }),
  );
  return fc.tuple(fc.constantFrom(...frames), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([frame, edits]) => {
    let out = Buffer.from(frame);
    for (const e of edits) {
      const at = out.length === 0 ? 0 : e.at % out.length;
      if (e.kind === 'flip' && out.length > 0) out[at] = e.value;
      else if (e.kind === 'cut') out = out.subarray(0, at);
      else if (e.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(e.bytes), out.subarray(at)]);
      else if (e.kind === 'int' && out.length >= at + 4) out.writeInt32BE(e.value | 0, at);
    }
    return out;
  });
}

/** Runs `fn`; it must return, or throw a RobustMQError with one of `codes` — never anything else — and be quick. */
export function returnsOrTypedError<T>(fn: () => T, codes: readonly string[]): T | undefined {
  const started = performance.now();
  try {
    return fn();
  } catch (err) {
    if (!isRobustMQError(err) || !codes.includes(err.code)) throw err;
    return undefined;
  } finally {
    expect(performance.now() - started).toBeLessThan(HANG_MS);
  }
}

/**
 * Counts the values in a decoded message and checks every Buffer in it is a view into `input`: decoding allocates
 * objects in proportion to the bytes received and never copies or allocates bytes from a claimed length.
 */
export function measure(value: unknown, input: Buffer): number {
  let nodes = 0;
  const walk = (v: unknown): void => {
    nodes++;
    if (Buffer.isBuffer(v)) {
      expect(v.buffer === input.buffer || v.length === 0).toBe(true);
      return;
    }
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return nodes;
}
