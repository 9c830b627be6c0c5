/**
 * local/Dockerfile and .dockerignore (also the CDK image asset's context): no Docker engine runs here, so what can
 * be checked without one is checked — the image's shape, that its build context holds what it copies, that the
 * production dependencies cover every runtime import, and that its health check works against a real node.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { IgnoreStrategy } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/broker-service.js';
import { BROKER_PORTS, HEALTHCHECK_SCRIPT, INTERNAL_PORTS } from '../../infra/ports.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);
const dockerfile = readFileSync(path.join(REPO_ROOT, 'local/Dockerfile'), 'utf8');
const ignorePatterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const context = IgnoreStrategy.docker(REPO_ROOT, ignorePatterns);
const inContext = (rel: string) => !context.ignores(path.join(REPO_ROOT, rel));

interface Instruction {
  op: string;
  args: string;
}
/** Instructions with line continuations joined, grouped by stage. */
function stages(): Instruction[][] {
  const joined = dockerfile.replace(/\\\n/g, ' ');
  const out: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    if (m[1] === 'FROM') out.push([]);
    out.at(-1)?.push({ op: m[1]!, args: m[2]!.trim() });
  }
  return out;
}
const final = () => stages().at(-1)!;
const argsOf = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('is multi-stage on Node 24 slim, and the runtime stage takes only production dependencies', () => {
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    for (const stage of all) expect(argsOf(stage, 'FROM')[0]).toMatch(/^\$\{NODE_IMAGE\}/);
    const copies = argsOf(final(), 'COPY');
    const modules = copies.find((c) => c.endsWith('/app/node_modules ./node_modules'))!;
    const depsStage = /--from=(\S+)/.exec(modules)![1];
    const deps = all.find((s) => argsOf(s, 'FROM')[0]!.endsWith(`AS ${depsStage}`))!;
    expect(argsOf(deps, 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(argsOf(final(), 'RUN').join(' ')).not.toMatch(/npm (ci|install)/);
  });

  it('runs as a non-root user with robustmq as entrypoint and `start` as default command', () => {
    const users = argsOf(final(), 'USER');
    expect(users.at(-1)).toBe('node');
    expect(argsOf(final(), 'ENTRYPOINT')).toEqual(['["robustmq"]']);
    expect(argsOf(final(), 'CMD')).toEqual(['["start"]']);
    expect(argsOf(final(), 'EXPOSE')[0]!.split(/\s+/).map(Number).sort()).toEqual([...Object.values(BROKER_PORTS), ...Object.values(INTERNAL_PORTS)].sort());
  });

  it('checks health on /healthz with the same script as the ECS task', () => {
    const [healthcheck] = argsOf(final(), 'HEALTHCHECK');
    const cmd = JSON.parse(healthcheck!.slice(healthcheck!.indexOf('CMD') + 3).trim()) as string[];
    expect(cmd).toEqual(['node', '-e', HEALTHCHECK_SCRIPT]);
  });

  it('copies only what the build context holds, and the context leaves out the rest', () => {
    const sources = stages()
      .flatMap((s) => argsOf(s, 'COPY'))
      .filter((c) => !c.startsWith('--from'))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const src of sources) {
      expect(statSync(path.join(REPO_ROOT, src)).isFile() || statSync(path.join(REPO_ROOT, src)).isDirectory()).toBe(true);
      expect(inContext(src), `${src} is excluded by .dockerignore`).toBe(true);
    }
    expect(inContext('local/Dockerfile')).toBe(true);
    for (const out of ['node_modules/zod/package.json', 'dist/runtime/node.js', 'cdk.out/manifest.json', 'data/meta/meta.log', 'test/e2e/cli.test.ts', '.git/HEAD', 'infra/stack.ts']) {
      expect(inContext(out), `${out} should stay out of the image context`).toBe(false);
    }
  });

  it('lists every package the runtime imports among the production dependencies', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) walk(file);
        else if (name.endsWith('.ts')) {
          const text = readFileSync(file, 'utf8');
          for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^'"]*?from\s+'([^'.][^']*)'/gm)) imported.add(m[1]!);
          for (const m of text.matchAll(/^import\s+'([^'.][^']*)'/gm)) imported.add(m[1]!);
        }
      }
    };
    walk(path.join(REPO_ROOT, 'runtime'));
    walk(path.join(REPO_ROOT, 'protocols'));
    const packages = [...imported]
      .filter((spec) => !spec.startsWith('node:') && !builtinModules.includes(spec))
      .map((spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!));
    expect(packages.length).toBeGreaterThan(3);
    for (const name of new Set(packages)) expect(pkg.dependencies, `${name} is imported by the runtime`).toHaveProperty([name]);
  });
});

describe('the health check script', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => node?.destroy());

  it('succeeds against a running node and fails where nothing listens', async () => {
    const ok = await run(process.execPath, ['-e', HEALTHCHECK_SCRIPT], { env: { ...process.env, ROBUSTMQ_ADMIN_PORT: String(node.ports.admin) } });
    expect(ok.stderr).toBe('');
    const closed = await run(process.execPath, ['-e', HEALTHCHECK_SCRIPT], { env: { ...process.env, ROBUSTMQ_ADMIN_PORT: '1' } }).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(closed).toBe(1);
  });
});
