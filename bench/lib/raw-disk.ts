/**
 * The disk's own sequential write and read rates, measured in the same run as the storage engine so ratios stay
 * meaningful on a shared machine: a Node write loop and `dd` with conv=fdatasync.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/** Node: sequential 1 MiB writes of `totalBytes`, one fdatasync at the end (or after every write with `syncEach`). */
export async function fsWriteLoop(dir: string, totalBytes: number, syncEach: boolean): Promise<number> {
  const path = join(dir, `raw-${syncEach ? 'sync-each' : 'sync-end'}.bin`);
  const chunk = Buffer.alloc(MiB, 0x5a);
  const handle = await fsp.open(path, 'w');
  const started = process.hrtime.bigint();
  try {
    for (let written = 0; written < totalBytes; written += chunk.length) {
      await handle.write(chunk, 0, Math.min(chunk.length, totalBytes - written), written);
      if (syncEach) await handle.datasync();
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await fsp.rm(path, { force: true });
  return totalBytes / seconds;
}

/** `dd if=/dev/zero bs=1M conv=fdatasync`: bytes per second as dd reports its own elapsed time. */
export async function ddWrite(dir: string, totalBytes: number): Promise<number> {
  const path = join(dir, 'raw-dd.bin');
  const count = Math.ceil(totalBytes / MiB);
  const out = spawnSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', `count=${count}`, 'conv=fdatasync'], {
    encoding: 'utf8',
  });
  await fsp.rm(path, { force: true });
  if (out.status !== 0) throw new Error(`dd failed: ${out.stderr}`);
  const m = /copied, ([\d.]+) s/.exec(out.stderr);
  if (!m) throw new Error(`cannot parse dd output: ${out.stderr}`);
  return (count * MiB) / Number(m[1]);
}

/** Drops `files` from the page cache (they must be synced already): dd iflag=nocache count=0, file by file. */
export function dropFromCache(files: string[]): void {
  for (const file of files) spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Sequential read of `files` with 1 MiB reads (the cold-read ceiling). */
export async function readFiles(files: string[]): Promise<number> {
  const buf = Buffer.allocUnsafe(MiB);
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (const file of files) {
    const handle = await fsp.open(file, 'r');
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
  return bytes / (Number(process.hrtime.bigint() - started) / 1e9);
}
