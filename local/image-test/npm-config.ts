/**
 * The machine's way to the npm registry, handed to the `npm ci` steps of the image build: the registry as the
 * Dockerfile's NPM_REGISTRY build arg, proxies as Docker's predefined *_PROXY build args (never kept in the image),
 * and the CA file npm trusts here, which the made base image carries (a TLS-intercepting proxy's CA, for one).
 */
import { readFileSync } from 'node:fs';
import { mustRun } from './exec.js';

export interface NpmRoute {
  registry: string;
  /** HTTP_PROXY, HTTPS_PROXY, NO_PROXY (and the lower-case forms) to pass as build args. */
  proxies: Record<string, string>;
  /** PEM bundle npm verifies the registry with here, when one is configured. */
  caFile?: string;
}

const PROXY_ARGS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'] as const;

function present(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value !== 'null' ? value : undefined;
}

export async function readNpmRoute(): Promise<NpmRoute> {
  const r = await mustRun('npm', ['config', 'ls', '--json'], { timeoutMs: 60_000 });
  const config = JSON.parse(r.stdout) as Record<string, unknown>;
  const proxies: Record<string, string> = {};
  for (const name of PROXY_ARGS) {
    const value = present(process.env[name]);
    if (value) proxies[name] = value;
  }
  // A proxy set only in npm's own config (.npmrc `proxy=`/`https-proxy=`) travels as the env form npm also reads.
  const npmProxy = present(config.proxy);
  const npmHttpsProxy = present(config['https-proxy']) ?? npmProxy;
  if (npmProxy && !proxies.HTTP_PROXY && !proxies.http_proxy) proxies.HTTP_PROXY = npmProxy;
  if (npmHttpsProxy && !proxies.HTTPS_PROXY && !proxies.https_proxy) proxies.HTTPS_PROXY = npmHttpsProxy;
  const caFile = present(config.cafile) ?? present(process.env.NODE_EXTRA_CA_CERTS);
  return { registry: present(config.registry) ?? 'https://registry.npmjs.org/', proxies, caFile: caFile && readable(caFile) };
}

function readable(path: string): string | undefined {
  try {
    readFileSync(path);
    return path;
  } catch {
    return undefined;
  }
}

export function buildArgs(route: NpmRoute): string[] {
  const args = ['--build-arg', `NPM_REGISTRY=${route.registry}`];
  for (const [name, value] of Object.entries(route.proxies)) args.push('--build-arg', `${name}=${value}`);
  return args;
}
