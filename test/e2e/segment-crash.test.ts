/**
 * Crash consistency of the segment engine: a child process appends with flush always from 8 producers and is
 * killed with SIGKILL at a random moment. After reopening, every acknowledged append must be present and readable,
 * offsets dense, no partial batch visible. Variants corrupt the last batch or delete index files before reopening.
 * Each variant runs three kill cycles on the same directory, so recovered logs are appended to and recovered again.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRecords, readBatchHeader, validateBatches, type DecodedRecord } from '../../runtime/storage/record-batch.js';
import { SegmentStorageEngine } from '../../runtime/storage/segment/engine.js';
import { tempDir } from '../helpers/batches.js';
import { CRASH_ENGINE_OPTIONS, CRASH_PARTITION, crashValue } from './segment-crash-shared.js';

const CHILD = join(import.meta.dirname, 'segment-crash-child.ts');
const REPO = join(import.meta.dirname, '..', '..');

interface Ack {
  base: number;
  last: number;
  producer: number;
  seq: number;
}

/** Runs the child until it has acknowledged appends for a random 150–650 ms, SIGKILLs it, returns the acks. */
function runAndKill(dataDir: string): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, '8'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), 150 + Math.random() * 500);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited (${code}) before the kill: ${err}`));
      const lines = out.split('\n').slice(0, -1); // the last piece may be a partial line
      const acks = lines.filter((l) => !l.startsWith('ready')).map((l) => {
        const [base, last, producer, seq] = l.split(' ').map(Number);
        return { base, last, producer, seq };
      });
      resolve(acks);
    });
  });
}

async function reopen(dataDir: string) {
  const engine = new SegmentStorageEngine({ dataDir, flush: { mode: 'always' }, ...CRASH_ENGINE_OPTIONS });
  return { engine, log: await engine.openPartition(CRASH_PARTITION, { retentionMs: -1, retentionBytes: -1 }) };
}

/** Reads the whole log batch by batch, checking each chunk is one whole, valid batch. */
async function readEverything(log: Awaited<ReturnType<typeof reopen>>['log']): Promise<DecodedRecord[]> {
  const records: DecodedRecord[] = [];
  let offset = 0;
  while (offset < log.highWatermark()) {
    const { chunks } = await log.read(offset, 64 * 1024);
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) {
      expect(validateBatches(chunk)).toHaveLength(1);
      records.push(...decodeRecords(chunk));
    }
    offset = records[records.length - 1].offset + 1;
  }
  return records;
}

function partitionPath(dataDir: string): string {
  return join(dataDir, `${CRASH_PARTITION.topic}-${CRASH_PARTITION.partition}`);
}

async function logFiles(dataDir: string): Promise<string[]> {
  const dir = partitionPath(dataDir);
  return (await fsp.readdir(dir)).filter((f) => f.endsWith('.log')).sort().map((f) => join(dir, f));
}

/** Flips a byte inside the last whole batch of the active segment; returns that batch's base offset. */
async function corruptLastBatch(dataDir: string): Promise<number | undefined> {
  const file = (await logFiles(dataDir)).at(-1)!;
  const bytes = await fsp.readFile(file);
  let pos = 0;
  let last: number | undefined;
  while (pos + 61 <= bytes.length) {
    const h = readBatchHeader(bytes, pos);
    if (h.size < 61 || pos + h.size > bytes.length) break;
    last = pos;
    pos += h.size;
  }
  if (last === undefined) return undefined;
  const h = readBatchHeader(bytes, last);
  bytes[last + h.size - 1] ^= 0x5a;
  await fsp.writeFile(file, bytes);
  return h.baseOffset;
}

async function deleteIndexes(dataDir: string): Promise<void> {
  const logs = await logFiles(dataDir);
  for (const file of [logs.at(-1)!, logs[0]]) {
    await fsp.rm(file.replace(/\.log$/, '.index'), { force: true });
    await fsp.rm(file.replace(/\.log$/, '.timeindex'), { force: true });
  }
}

type Damage = 'none' | 'corrupt-last-batch' | 'delete-indexes';

describe('segment engine crash consistency (SIGKILL during flush-always appends)', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await tempDir('robustmq-crash-');
  });
  afterEach(async () => {
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  const variants: Damage[] = ['none', 'corrupt-last-batch', 'delete-indexes'];
  for (const damage of variants) {
    it(`keeps every acknowledged append (damage after the kill: ${damage})`, { timeout: 120_000 }, async () => {
      const acked: Ack[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        acked.push(...(await runAndKill(dataDir)));
        expect(acked.length).toBeGreaterThan(0);
        let lostFrom = Number.POSITIVE_INFINITY;
        if (damage === 'corrupt-last-batch') lostFrom = (await corruptLastBatch(dataDir)) ?? lostFrom;
        if (damage === 'delete-indexes') await deleteIndexes(dataDir);

        const { engine, log } = await reopen(dataDir);
        const records = await readEverything(log);
        expect(records.map((r) => r.offset)).toEqual(Array.from({ length: log.highWatermark() }, (_, i) => i));
        const byOffset = new Map(records.map((r) => [r.offset, r]));
        const survivors = acked.filter((a) => a.last < lostFrom);
        if (Number.isFinite(lostFrom)) expect(log.highWatermark()).toBe(lostFrom);
        for (const a of survivors) {
          for (let o = a.base; o <= a.last; o++) {
            expect(byOffset.get(o)?.value?.toString()).toBe(crashValue(a.producer, a.seq, o - a.base));
          }
        }
        // Time lookups agree with the records (indexes are whole, rebuilt where deleted).
        for (const r of records.filter((_, i) => i % 97 === 0)) {
          const first = records.find((x) => x.timestamp >= r.timestamp)!;
          expect(await log.offsetForTime(r.timestamp)).toEqual({ offset: first.offset, timestamp: first.timestamp });
        }
        await engine.close();
        acked.splice(0, acked.length, ...survivors);
      }
    });
  }
});
