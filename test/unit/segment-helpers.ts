/** Shared setup for the segment engine's own tests. */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { LogConfig, PartitionId } from '../../runtime/storage/engine.js';
import { SegmentStorageEngine, type SegmentEngineOptions } from '../../runtime/storage/segment/engine.js';

export const KEEP: LogConfig = { retentionMs: -1, retentionBytes: -1 };
export const P0: PartitionId = { topic: 'seg', partition: 0 };
export const T0 = 1_700_000_000_000;

export function engineAt(dataDir: string, options: Partial<SegmentEngineOptions> = {}): SegmentStorageEngine {
  return new SegmentStorageEngine({ dataDir, flush: { mode: 'always' }, ...options });
}

/**
 * Drops an engine as a killed process would: descriptors closed, nothing flushed or checkpointed. Its writes are
 * in the page cache, exactly what survives a SIGKILL.
 */
export function abandon(engine: SegmentStorageEngine): void {
  (engine as unknown as { ctx: { pool: { closeAll(): void } } }).ctx.pool.closeAll();
}

export function partitionDir(dataDir: string, id: PartitionId = P0): string {
  return join(dataDir, `${id.topic}-${id.partition}`);
}

/** The partition's files by suffix, sorted by name (= base offset). */
export async function segmentFiles(dataDir: string, suffix: string, id: PartitionId = P0): Promise<string[]> {
  const dir = partitionDir(dataDir, id);
  return (await fsp.readdir(dir)).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f));
}
