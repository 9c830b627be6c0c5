/**
 * Child processes for the image test: every command has a time limit, its output is kept (the tail, bounded) and
 * optionally written to a log file, and every child still running can be ended at once when the test is interrupted.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface RunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  /** Piped into the command's stdin (instead of `input`). */
  stdinFrom?: NodeJS.ReadableStream;
  /** Appends stdout and stderr to this file as they come. */
  logFile?: string;
  /** Each line in logFile starts with the seconds since the command started, as `[  12.3] `. */
  logTimes?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** What a command printed is kept up to this size (its tail): a docker build prints megabytes. */
const KEEP_BYTES = 1 << 20;

const running = new Set<ChildProcess>();
/** Resolves once a child's log file has all it printed. */
const logsWritten = new WeakMap<ChildProcess, Promise<void>>();

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    const why = result.timedOut
      ? `timed out after ${(result.ms / 1000).toFixed(1)}s`
      : result.signal
        ? `killed by ${result.signal}`
        : `exited with ${result.code}`;
    super(`${result.command}: ${why}\n${tail(result.stderr || result.stdout, 25)}`);
  }
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function describe(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

class Tail {
  private text = '';
  push(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > KEEP_BYTES * 2) this.text = this.text.slice(-KEEP_BYTES);
  }
  toString(): string {
    return this.text.length > KEEP_BYTES ? this.text.slice(-KEEP_BYTES) : this.text;
  }
}

/** Starts a command; the caller owns it (see `run` for the usual case). It is ended by `endAll` like the others. */
export interface StartOptions extends Omit<RunOptions, 'timeoutMs'> {
  /** Own process group (a daemon the caller stops itself). */
  detached?: boolean;
  /** false: not ended by `endAll` (the Docker engine, which the cleanup after an interrupt still needs). */
  tracked?: boolean;
}

/** Starts a command; the caller owns it (see `run` for the usual case). */
export function start(cmd: string, args: readonly string[], opts: StartOptions = {}): ChildProcess {
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: opts.detached ?? false,
    stdio: ['pipe', 'pipe', 'pipe'],
  };
  const child = spawn(cmd, args, spawnOpts);
  if (opts.tracked ?? true) {
    running.add(child);
    child.once('close', () => running.delete(child));
    child.once('error', () => running.delete(child));
  }
  if (opts.logFile) {
    const log: WriteStream = createWriteStream(opts.logFile, { flags: 'a' });
    const began = Date.now();
    let atLineStart = true;
    const write = opts.logTimes
      ? (c: Buffer) => {
          const stamp = `[${((Date.now() - began) / 1000).toFixed(1).padStart(6)}] `;
          const text = c.toString('utf8');
          log.write((atLineStart ? stamp : '') + text.replace(/\n(?=.)/g, `\n${stamp}`));
          atLineStart = text.endsWith('\n');
        }
      : (c: Buffer) => log.write(c);
    child.stdout?.on('data', write);
    child.stderr?.on('data', write);
    logsWritten.set(child, new Promise((resolve) => child.once('close', () => log.end(resolve))));
  }
  // A command that exits before reading all its input must not crash the test with EPIPE.
  child.stdin?.on('error', () => {});
  if (opts.stdinFrom) opts.stdinFrom.pipe(child.stdin!);
  else if (opts.input !== undefined) child.stdin?.end(opts.input);
  else child.stdin?.end();
  return child;
}

/** Runs a command to its end or its time limit (then SIGKILL), never rejecting: the result says how it ended. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const began = Date.now();
  const command = describe(cmd, args);
  return new Promise((resolve) => {
    const out = new Tail();
    const err = new Tail();
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = start(cmd, args, opts);
    } catch (e) {
      resolve({ command, code: null, signal: null, stdout: '', stderr: String(e), timedOut: false, ms: 0 });
      return;
    }
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    let spawnError = '';
    child.once('error', (e) => {
      spawnError = `${e.message}\n`;
    });
    child.once('close', async (code, signal) => {
      clearTimeout(timer);
      await logsWritten.get(child);
      resolve({
        command,
        code,
        signal,
        stdout: out.toString(),
        stderr: spawnError + err.toString(),
        timedOut,
        ms: Date.now() - began,
      });
    });
  });
}

/** Like `run`, but a command that does not exit 0 throws a CommandError naming it, how it ended and its last lines. */
export async function mustRun(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new CommandError(result);
  return result;
}

/** Ends every child still running (SIGTERM, SIGKILL after graceMs): used when the test itself is interrupted. */
export async function endAll(graceMs = 5_000): Promise<void> {
  const children = [...running];
  for (const c of children) c.kill('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (running.size > 0 && Date.now() < deadline) await sleep(100);
  for (const c of running) c.kill('SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined, or throws when timeoutMs passes. */
export async function waitFor<T>(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${what}: not after ${(timeoutMs / 1000).toFixed(0)}s`);
    await sleep(intervalMs);
  }
}
