/** The host's side: the Debian packages the test needs, and what apt's configuration says about mirror and proxy. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pickMirror, readAptSources } from './apt-sources.js';
import { mustRun, run } from './exec.js';

/** A command the test runs, and the Debian package that brings it. */
const NEEDED: ReadonlyArray<{ command: string; pkg: string }> = [
  { command: 'dockerd', pkg: 'docker.io' },
  { command: 'docker', pkg: 'docker.io' },
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'mosquitto_pub', pkg: 'mosquitto-clients' },
  { command: 'mosquitto_sub', pkg: 'mosquitto-clients' },
  { command: 'kcat', pkg: 'kcat' },
];

export function onPath(command: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Installs the packages of the commands missing (after `apt-get update`); returns the packages installed. */
export async function installMissing(): Promise<string[]> {
  const pkgs = [...new Set(NEEDED.filter((n) => !onPath(n.command)).map((n) => n.pkg))];
  if (pkgs.length === 0) return [];
  if (!onPath('apt-get')) throw new Error(`missing ${pkgs.join(', ')} and no apt-get to install them with`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await mustRun('apt-get', ['update', '-q'], { timeoutMs: 5 * 60_000, env });
  await mustRun('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...pkgs], { timeoutMs: 10 * 60_000, env });
  return pkgs;
}

/** Values of apt configuration items, through apt-config (which knows every file and default apt reads). */
async function aptConfig(items: Record<string, string>): Promise<Record<string, string>> {
  const args = ['shell'];
  for (const [name, item] of Object.entries(items)) args.push(name, item);
  const r = await run('apt-config', args, { timeoutMs: 30_000 });
  const values: Record<string, string> = {};
  // Lines look like NAME='value' (a ' inside written as '"'"').
  for (const m of r.stdout.matchAll(/^(\w+)='(.*)'$/gm)) values[m[1]] = m[2].replace(/'"'"'/g, "'");
  return values;
}

export interface AptView {
  mirror: string;
  /** Acquire::http::Proxy, which debootstrap (wget) does not read: passed on as http_proxy. */
  httpProxy?: string;
}

export async function readAptView(suite: string): Promise<AptView> {
  const c = await aptConfig({
    LIST: 'Dir::Etc::sourcelist/f',
    PARTS: 'Dir::Etc::sourceparts/d',
    PROXY: 'Acquire::http::Proxy',
  });
  const list = c.LIST || '/etc/apt/sources.list';
  const parts = c.PARTS || '/etc/apt/sources.list.d/';
  const mirror = pickMirror(readAptSources(list, parts), suite);
  if (!mirror) throw new Error(`no Debian mirror for ${suite} with main in ${list} or ${parts}`);
  return { mirror, httpProxy: c.PROXY && c.PROXY !== 'DIRECT' ? c.PROXY : undefined };
}
