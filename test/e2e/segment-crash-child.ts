/**
 * Child process of the segment crash test: appends with flush always from several concurrent producers until it is
 * killed, printing one line per acknowledged append: `<baseOffset> <lastOffset> <producer> <seq>`. Record j of
 * that append has the value `<producer>:<seq>:<j>` padded with dots.
 *
 * Usage: node --import tsx test/e2e/segment-crash-child.ts <dataDir> <producers>
 */
import { encodeRecordBatch } from '../../runtime/storage/record-batch.js';
import { SegmentStorageEngine } from '../../runtime/storage/segment/engine.js';
import { CRASH_ENGINE_OPTIONS, CRASH_PARTITION, crashValue } from './segment-crash-shared.js';

const [dataDir, producersArg] = process.argv.slice(2);
const engine = new SegmentStorageEngine({ dataDir, flush: { mode: 'always' }, ...CRASH_ENGINE_OPTIONS });
const log = await engine.openPartition(CRASH_PARTITION, { retentionMs: -1, retentionBytes: -1 });
// Pipes are written synchronously on Linux: a line printed here reached the parent before the next append.
process.stdout.write(`ready ${log.highWatermark()}\n`);

async function produce(producer: number): Promise<never> {
  for (let seq = 0; ; seq++) {
    const count = 1 + ((producer + seq) % 4);
    const records = Array.from({ length: count }, (_, j) => ({ value: Buffer.from(crashValue(producer, seq, j)) }));
    const r = await log.append(encodeRecordBatch(records, { timestamp: Date.now() }));
    process.stdout.write(`${r.baseOffset} ${r.lastOffset} ${producer} ${seq}\n`);
  }
}

await Promise.all(Array.from({ length: Number(producersArg) }, (_, p) => produce(p)));
