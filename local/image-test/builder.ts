/**
 * Which `docker build` to run. BuildKit builds the two npm stages side by side and makes no container per metadata
 * instruction; with vfs that took this build from 170 s (classic builder) to about 40 s here. A Docker CLI from 23 on
 * reaches BuildKit only through the buildx plugin; one before 23 (Debian 12's docker.io: 20.10) has it built in, and
 * that one is used when the docker on PATH is a newer CLI without buildx, as on this machine. Otherwise the classic
 * builder. ROBUSTMQ_IMAGE_TEST_BUILDER=classic or =buildkit forces one.
 */
import { run } from './exec.js';

export interface Builder {
  /** The docker client to run `build` with. */
  client: string;
  env: Record<string, string>;
  /** Extra `docker build` flags. */
  flags: string[];
  name: string;
}

async function clientMajor(client: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  // Exits 1 when no engine answers, having printed the client's version all the same.
  const r = await run(client, ['version', '--format', '{{.Client.Version}}'], { timeoutMs: 15_000, env });
  const major = Number.parseInt(r.stdout.trim(), 10);
  return Number.isFinite(major) ? major : undefined;
}

async function hasBuildx(client: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await run(client, ['buildx', 'version'], { timeoutMs: 15_000, env })).code === 0;
}

export async function chooseBuilder(env: NodeJS.ProcessEnv): Promise<Builder> {
  const forced = process.env.ROBUSTMQ_IMAGE_TEST_BUILDER;
  const classic: Builder = { client: 'docker', env: { DOCKER_BUILDKIT: '0' }, flags: [], name: 'classic builder' };
  const buildkit = (client: string, how: string): Builder => ({
    client,
    env: { DOCKER_BUILDKIT: '1' },
    flags: ['--progress=plain'],
    name: `BuildKit (${how})`,
  });
  if (forced === 'classic') return classic;
  if (await hasBuildx('docker', env)) return buildkit('docker', 'buildx');
  const major = await clientMajor('docker', env);
  if (major !== undefined && major < 23) return buildkit('docker', `built into the docker ${major} CLI`);
  // The docker.io package's client, behind a newer one earlier on PATH.
  const packaged = '/usr/bin/docker';
  const packagedMajor = await clientMajor(packaged, env);
  if (packagedMajor !== undefined && packagedMajor < 23) return buildkit(packaged, `built into ${packaged} ${packagedMajor}`);
  if (forced === 'buildkit') {
    throw new Error('ROBUSTMQ_IMAGE_TEST_BUILDER=buildkit, but no docker client here has BuildKit (no buildx, no CLI before 23)');
  }
  return classic;
}
