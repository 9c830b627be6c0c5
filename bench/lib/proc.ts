/**
 * Child processes of a benchmark: brokers and load generators run outside the runner's event loop, so what is
 * measured is the broker, not the harness. Every child is tracked and killed when the runner exits.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_LIB_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_LIB_DIR, '..', '..');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  return child;
}

/**
 * Forks a module of bench/lib with an IPC channel: `.ts` through the tsx loader, `.mjs` as plain node (for
 * processes whose memory is measured).
 */
export function forkChild(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = fork(path.join(BENCH_LIB_DIR, file), args, {
    execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env: { ...process.env, ...env },
    // The child's stdout goes to the runner's stderr: stdout is the report.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  return track(child);
}

/** A tracked non-node child; stdout is discarded, stderr is piped for error messages. */
export function spawnTracked(command: string, args: string[]): ChildProcess {
  return track(spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
}

/** Resolves with the first IPC message of `type`; rejects if the child exits or the time runs out first. */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: string, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: unknown): void => {
      const m = msg as { type?: string; message?: string };
      if (m?.type === type) {
        cleanup();
        resolve(msg as T);
      } else if (m?.type === 'error') {
        cleanup();
        reject(new Error(m.message ?? 'child reported an error'));
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`child exited (${signal ?? code}) before sending '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' from child within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Sends SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whole exit of a short-lived command with its collected stderr. */
export function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** A port the kernel just handed out on 127.0.0.1 (free unless someone grabs it before the caller binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until a TCP connect to the port succeeds. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size of a process in bytes, from /proc/<pid>/status VmRSS. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** utime + stime of a process in clock ticks, from /proc/<pid>/stat (fields 14 and 15). */
export function cpuTicks(pid: number): number {
  return parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** The command name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'. */
export function parseCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc stat line');
  return utime + stime;
}

/** Kernel clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
export const CLOCK_TICKS = 100;
