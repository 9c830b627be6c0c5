/** What the segment crash test's parent and child agree on. */
import type { PartitionId } from '../../runtime/storage/engine.js';

/** Small segments so that kills land during rolls too; a dense index so index rebuilds have work to do. */
export const CRASH_ENGINE_OPTIONS = { segmentBytes: 64 * 1024, indexIntervalBytes: 512 };
export const CRASH_PARTITION: PartitionId = { topic: 'crash', partition: 0 };

/** Value of record `j` of append `seq` of `producer`: varied lengths so batches have varied sizes. */
export function crashValue(producer: number, seq: number, j: number): string {
  return `${producer}:${seq}:${j}:`.padEnd(40 + ((seq * 7 + j * 13) % 300), '.');
}
