/**
 * Process-crash safety of the embedded meta store: a child process writes as fast as it can (several concurrent
 * writers, single puts and two-namespace transactions, compacting often) and prints each key once its write is
 * acknowledged; it is killed with SIGKILL at a random moment. On reopen every acknowledged write must be there,
 * the surviving writes of a run must be a prefix of the order they were issued in, and no transaction may be
 * half applied. (SIGKILL keeps the page cache, so this proves ack-after-write and recovery, not power-loss.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRobustMQError } from '../../runtime/errors.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const storeModule = path.join(repoRoot, 'runtime/meta/embedded/store.ts');

const WRITER = `
import { EmbeddedMetaStore } from ${JSON.stringify(storeModule)};
const [dir, run, mode] = process.argv.slice(2);
const store = await EmbeddedMetaStore.open(dir, { compactAfterBytes: 16 * 1024 });
process.stdout.write('ready\\n');
if (mode === 'hold') setInterval(() => undefined, 1000);
else {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      const key = run + '-' + String(n).padStart(6, '0');
      if (n % 4 === 0) {
        await store.transact([
          { op: 'put', ns: 'topics', key, value: { n, pad: 'x'.repeat(n % 50) } },
          { op: 'put', ns: 'partitions', key, value: n },
        ]);
      } else {
        await store.put('topics', key, { n, pad: 'x'.repeat(n % 50) });
      }
      process.stdout.write('ack ' + key + '\\n');
    }
  };
  for (let w = 0; w < 4; w++) void worker();
}
`;

let dir: string;
let script: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-meta-crash-'));
  script = path.join(dir, 'writer.mts');
  await writeFile(script, WRITER);
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** Starts the writer; resolves once its store is open. `lines` collects every complete stdout line. */
async function startWriter(run: string, mode: 'write' | 'hold') {
  const child = spawn(process.execPath, ['--import', 'tsx', script, path.join(dir, 'meta'), run, mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      if (lines[0] === 'ready') resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before it was ready: ${stderr}`)));
  });
  await ready;
  return { child, lines };
}

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  // Waiting for 'exit' reaps the child, so its pid no longer looks alive to the lock check.
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

describe('embedded meta store crash safety', () => {
  it('keeps every acknowledged write across SIGKILL at random moments', async () => {
    const acked: string[] = [];
    for (const run of ['r1', 'r2', 'r3']) {
      const { child, lines } = await startWriter(run, 'write');
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      await kill(child);
      const runAcks = lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
      expect(runAcks.length, `writer ${run} acknowledged nothing`).toBeGreaterThan(0);
      acked.push(...runAcks);

      const store = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
      const topics = new Set((await store.list('topics')).map((e) => e.key));
      const partitions = new Set((await store.list('partitions')).map((e) => e.key));
      await store.close();
      const missing = acked.filter((k) => !topics.has(k));
      expect(missing, `acknowledged but lost after ${run}`).toEqual([]);
      const survivors = [...topics].filter((k) => k.startsWith(`${run}-`)).map((k) => Number(k.slice(run.length + 1)));
      expect(survivors.sort((a, b) => a - b)).toEqual(survivors.map((_, i) => i));
      for (const n of survivors) expect(partitions.has(`${run}-${String(n).padStart(6, '0')}`)).toBe(n % 4 === 0);
    }
  });

  it('refuses to open a directory a live process holds, and takes it over once that process is killed', async () => {
    const { child } = await startWriter('hold', 'hold');
    const err = await EmbeddedMetaStore.open(path.join(dir, 'meta')).catch((e: unknown) => e);
    expect(isRobustMQError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`in use by process ${child.pid}`);
    await kill(child);
    const store = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
    await store.put('cluster', 'owner', process.pid);
    await store.close();
  });
});
