/** Runs the real `robustmq` binary (compiled; `npm test` builds first) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/robustmq.js');

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist/runtime/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a child process; `input` goes to its standard input (closed at once without it). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`robustmq ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export interface StartedBroker {
  child: ChildProcess;
  ports: Record<string, number>;
  /** Every stdout line so far. */
  lines: string[];
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `robustmq start` with the given flags and waits for the "node started" log line. */
export function startBroker(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<StartedBroker> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    const lines: string[] = [];
    let stderr = '';
    let buffered = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start in ${timeoutMs} ms\n${lines.join('\n')}\n${stderr}`));
    }, timeoutMs);
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; ports?: Record<string, number> };
          if (entry.msg === 'robustmq node started' && entry.ports) {
            clearTimeout(timer);
            resolve({
              child,
              ports: entry.ports,
              lines,
              stop: (signal = 'SIGTERM') => {
                child.kill(signal);
                return exited;
              },
            });
          }
        } catch {
          // not a JSON log line
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before starting\n${lines.join('\n')}\n${stderr}`));
    });
  });
}

/** Flags for an isolated broker on loopback with ephemeral ports. */
export function isolatedFlags(dataDir: string): string[] {
  return ['--data-dir', dataDir, '--host', '127.0.0.1', '--mqtt-port', '0', '--ws-port', '0', '--kafka-port', '0', '--admin-port', '0'];
}
