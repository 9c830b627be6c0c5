/** librdkafka through kcat: produce a generated file of records, fetch them back, timing each whole run. */
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { cpuTicks, spawnTracked, waitExit } from './proc.js';

export interface KcatRun {
  readonly records: number;
  readonly payloadBytes: number;
  readonly wallMs: number;
  /** utime+stime ticks the broker spent during the run. */
  readonly brokerTicks: number;
}

/** `count` newline-delimited records of exactly `size` bytes each (kcat strips the delimiter). */
export async function writeRecordsFile(file: string, count: number, size: number): Promise<void> {
  const line = Buffer.alloc(size + 1, 0x72);
  line[size] = 0x0a;
  const perBlock = Math.max(1, Math.floor((1 << 20) / line.length));
  const block = Buffer.allocUnsafe(line.length * perBlock);
  for (let i = 0; i < perBlock; i++) line.copy(block, i * line.length);
  const fh = await open(file, 'w');
  try {
    for (let left = count; left > 0; left -= perBlock) {
      const n = Math.min(perBlock, left);
      await fh.write(block, 0, n * line.length);
    }
  } finally {
    await fh.close();
  }
}

function kcatFailure(what: string, code: number | null, signal: string | null, stderr: string): Error {
  return new Error(`kcat ${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

export interface ProduceOptions {
  readonly bootstrap: string;
  readonly topic: string;
  readonly file: string;
  readonly records: number;
  readonly size: number;
  readonly acks: '1' | 'all';
  readonly brokerPid: number;
}

export async function kcatProduce(o: ProduceOptions): Promise<KcatRun> {
  const args = ['-P', '-b', o.bootstrap, '-t', o.topic, '-p', '0', '-X', `acks=${o.acks}`, '-X', 'linger.ms=5', '-l', o.file];
  const cpu0 = cpuTicks(o.brokerPid);
  const t0 = performance.now();
  const { code, signal, stderr } = await waitExit(spawnTracked('kcat', args));
  const wallMs = performance.now() - t0;
  const brokerTicks = cpuTicks(o.brokerPid) - cpu0;
  // kcat reports failed deliveries on stderr and still exits 0 for some of them.
  if (code !== 0 || /fail|error/i.test(stderr)) throw kcatFailure('produce', code, signal, stderr);
  return { records: o.records, payloadBytes: o.records * o.size, wallMs, brokerTicks };
}

export interface ConsumeOptions {
  readonly bootstrap: string;
  readonly topic: string;
  readonly records: number;
  readonly size: number;
  readonly brokerPid: number;
}

/**
 * Reads the partition from the beginning to its end. Output goes to /dev/null: through a pipe to this process
 * kcat ran 3-4x slower (1M x 100 B: 3-4 s instead of 0.85 s), which would measure the pipe, not the broker.
 * Completeness is checked from kcat's own end-of-partition line, which carries the offset it reached.
 */
export async function kcatConsume(o: ConsumeOptions): Promise<KcatRun> {
  const args = ['-C', '-b', o.bootstrap, '-t', o.topic, '-p', '0', '-o', 'beginning', '-e'];
  const cpu0 = cpuTicks(o.brokerPid);
  const t0 = performance.now();
  const { code, signal, stderr } = await waitExit(spawnTracked('kcat', args));
  const wallMs = performance.now() - t0;
  const brokerTicks = cpuTicks(o.brokerPid) - cpu0;
  if (code !== 0) throw kcatFailure('consume', code, signal, stderr);
  const reached = parseEndOffset(stderr);
  if (reached !== o.records) {
    throw new Error(`kcat consume ended at offset ${reached ?? 'unknown'}, expected ${o.records}: ${stderr.trim()}`);
  }
  return { records: o.records, payloadBytes: o.records * o.size, wallMs, brokerTicks };
}

/** "% Reached end of topic T [0] at offset 1000000: exiting" → 1000000. */
export function parseEndOffset(stderr: string): number | null {
  const m = /Reached end of topic .* \[\d+\] at offset (\d+)/.exec(stderr);
  return m ? Number(m[1]) : null;
}

/** Wall time of a whole kcat process that only fetches metadata: the start-up cost inside every kcat timing. */
export async function kcatStartupMs(bootstrap: string): Promise<number> {
  const t0 = performance.now();
  const child = spawnTracked('kcat', ['-L', '-b', bootstrap, '-q']);
  const { code, signal, stderr } = await waitExit(child);
  if (code !== 0) throw kcatFailure('metadata', code, signal, stderr);
  return performance.now() - t0;
}
