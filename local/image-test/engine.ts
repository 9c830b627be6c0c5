/**
 * The Docker engine the test talks to: the one DOCKER_HOST (or the default socket) already reaches, or else a dockerd
 * of its own, with the vfs storage driver (no overlay mounts needed), no iptables and no bridge (the containers use
 * the host's network), and its own data root, exec root, pidfile and socket, stopped by its pid at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustRun, run, sleep, tail, waitFor, type RunOptions, type RunResult } from './exec.js';

export interface Engine {
  /** The environment for every docker command (DOCKER_HOST set when the engine is the test's own). */
  env: NodeJS.ProcessEnv;
  version: string;
  /** true: the test started this dockerd and stops it. */
  own: boolean;
  docker(args: readonly string[], opts: Omit<RunOptions, 'env'>): Promise<RunResult>;
  mustDocker(args: readonly string[], opts: Omit<RunOptions, 'env'>): Promise<RunResult>;
  stop(): Promise<void>;
}

async function serverVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000, env });
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

function engineOf(env: NodeJS.ProcessEnv, version: string, own: boolean, stop: () => Promise<void>): Engine {
  return {
    env,
    version,
    own,
    docker: (args, opts) => run('docker', args, { ...opts, env }),
    mustDocker: (args, opts) => mustRun('docker', args, { ...opts, env }),
    stop,
  };
}

/**
 * Mounts dockerd may leave under `dir` (a container's /dev/shm, a netns) when it did not stop cleanly: unmounted
 * before the directory goes, and the directory is kept if any remains, so that rm never walks into a mounted tree.
 */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

function removeTree(dir: string, log: (line: string) => void): void {
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore', timeout: 10_000 });
  if (mountsUnder(dir).length > 0) log(`kept ${dir}: mounts remain under it`);
  else rmSync(dir, { recursive: true, force: true });
}

const GiB = 1024 ** 3;

/**
 * vfs keeps a full copy of the tree per image layer and per container: 7.6 GB at the peak of this build. In a tmpfs
 * that costs seconds; on this machine's disk (ext4 with online discard) the whole test took 107 s instead of 56 s
 * with BuildKit (removing the data root alone 42 s), and 21 min with the classic builder.
 * So the data root is a tmpfs when memory allows (at most 16 GiB, leaving 4 GiB free; ROBUSTMQ_IMAGE_TEST_TMPFS=0:
 * never), else a directory in /var/tmp.
 */
function tmpfsBytes(): number | undefined {
  if (process.env.ROBUSTMQ_IMAGE_TEST_TMPFS === '0') return undefined;
  const available = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  const bytes = Math.min(16 * GiB, (available ? Number(available[1]) * 1024 : 0) - 4 * GiB);
  return bytes >= 10 * GiB ? bytes : undefined;
}

/** The socket, exec root and pidfile go to a directory in /tmp, the data root as tmpfsBytes says. */
export async function startEngine(logDir: string, log: (line: string) => void): Promise<Engine> {
  const existing = await serverVersion(process.env);
  if (existing) return engineOf(process.env, existing, false, async () => {});

  const runDir = mkdtempSync(join(tmpdir(), 'robustmq-dockerd.'));
  const dataRoot = mkdtempSync('/var/tmp/robustmq-dockerd-data.');
  try {
    return await startDaemon(runDir, dataRoot, logDir, log);
  } catch (err) {
    removeTree(dataRoot, log);
    removeTree(runDir, log);
    throw err;
  }
}

async function startDaemon(runDir: string, dataRoot: string, logDir: string, log: (line: string) => void): Promise<Engine> {
  const tmpfs = tmpfsBytes();
  if (tmpfs) await mustRun('mount', ['-t', 'tmpfs', '-o', `size=${tmpfs},mode=0711`, 'robustmq-dockerd', dataRoot], { timeoutMs: 30_000 });
  const socket = join(runDir, 'docker.sock');
  const pidfile = join(runDir, 'docker.pid');
  const logFile = join(logDir, 'dockerd.log');
  mkdirSync(join(runDir, 'exec'));
  // Not the machine's /etc/docker/daemon.json: a setting there that one of these flags also sets stops dockerd.
  // dockerd before 23 writes a trust key to /etc/docker/key.json unless this (later versions reject it) says where.
  const dockerd = spawnSync('dockerd', ['--version'], { encoding: 'utf8', timeout: 15_000 }).stdout ?? '';
  const major = Number.parseInt(/version (\d+)/i.exec(dockerd)?.[1] ?? '', 10);
  const config = major < 23 ? { 'deprecated-key-path': join(runDir, 'key.json') } : {};
  writeFileSync(join(runDir, 'daemon.json'), `${JSON.stringify(config)}\n`);
  const args = [
    '--config-file', join(runDir, 'daemon.json'),
    '--storage-driver', 'vfs',
    '--iptables=false',
    '--bridge=none',
    '--data-root', dataRoot,
    '--exec-root', join(runDir, 'exec'),
    '--pidfile', pidfile,
    '-H', `unix://${socket}`,
  ];
  const fd = openSync(logFile, 'a');
  // Its own process group, not tracked by exec.ts: the cleanup after an interrupt still needs the engine.
  const daemon: ChildProcess = spawn('dockerd', args, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let exited = false;
  daemon.once('exit', () => {
    exited = true;
  });
  daemon.once('error', () => {
    exited = true;
  });
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  const where = tmpfs ? `a ${(tmpfs / GiB).toFixed(0)} GiB tmpfs at ${dataRoot}` : dataRoot;
  log(`dockerd pid ${daemon.pid}, socket ${socket}, data root ${where}, log ${logFile}`);

  const stop = async (): Promise<void> => {
    if (!exited && daemon.pid) {
      daemon.kill('SIGTERM');
      const deadline = Date.now() + 30_000;
      while (!exited && Date.now() < deadline) await sleep(200);
      // dockerd did not stop: end its group (its containerd and shims) by the group id it was started with.
      if (!exited) {
        try {
          process.kill(-daemon.pid, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      }
      const killDeadline = Date.now() + 10_000;
      while (!exited && Date.now() < killDeadline) await sleep(200);
    }
    removeTree(dataRoot, log);
    removeTree(runDir, log);
  };

  try {
    const version = await waitFor('dockerd answering', 60_000, 250, async () => {
      if (exited) throw new Error(`dockerd exited at start:\n${tail(readLog(logFile), 20)}`);
      return serverVersion(env);
    });
    return engineOf(env, version, true, stop);
  } catch (err) {
    await stop(); // removes the directories too; startEngine's second try finds them gone
    throw err;
  }
}

function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
