/**
 * local/docker-compose.yml as data, for tests that run its services without Docker: the file parsed (YAML merge
 * keys, `${VAR:-default}` substitution), its RobustMQ services, and the config each one's command and environment
 * give the real CLI.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { brokerCommand, metaCommand } from '../../runtime/cli/broker.js';
import { startCommand } from '../../runtime/cli/start.js';
import { loadConfig } from '../../runtime/config/load.js';
import { flagName, nodeConfigSchema, type NodeConfig } from '../../runtime/config/schema.js';
import { ROOT } from './cli.js';

export interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}

export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

export const LOCALSTACK = 'http://localstack:4566';

/** Compose variable substitution: `${NAME:-default}`, `${NAME}`, and `$$` for a literal `$`. */
export function interpolate<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    return value
      .replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => vars[name] || fallback || '')
      .replace(/\$\$/g, '$') as T;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)])) as T;
  return value;
}

export async function readCompose(vars: Record<string, string>): Promise<Compose> {
  const raw = await readFile(path.join(ROOT, 'local/docker-compose.yml'), 'utf8');
  return interpolate(parse(raw, { merge: true }) as Compose, vars);
}

export const envOf = (s: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));

/** `host:container` → [host, container]. */
export const published = (s: Service): Array<[number, number]> => (s.ports ?? []).map((p) => p.split(':').map(Number) as [number, number]);

/** Every listener port option (config keys `...Port` with a default): set to 0, each listener takes a free port. */
export const FREE_PORTS = Object.entries(nodeConfigSchema.parse({}) as Record<string, unknown>)
  .filter(([key, value]) => key.endsWith('Port') && typeof value === 'number')
  .flatMap(([key]) => [`--${flagName(key)}`, '0']);

const COMMANDS: Record<string, () => Command> = { start: startCommand, broker: brokerCommand, meta: metaCommand };

/** The config a service's process would run with: its flags through the real command's parser, its env (or `env`). */
export function configOf(s: Service, env: Record<string, string> = envOf(s)): NodeConfig {
  const factory = COMMANDS[s.command?.[0] ?? ''];
  if (!factory) throw new Error(`not a robustmq command: ${s.command?.[0]}`);
  const cmd = factory().exitOverride();
  cmd.action(() => undefined);
  cmd.parse(s.command!.slice(1), { from: 'user' });
  const { config: configFile, ...flags } = cmd.opts<Record<string, unknown>>();
  if (configFile !== undefined) throw new Error('a compose service should not need --config');
  return loadConfig({ flags, env });
}
