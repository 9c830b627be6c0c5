/**
 * Builds the node configuration from its sources, highest precedence first: command-line flags, ROBUSTMQ_* env vars,
 * the --config file (YAML or JSON), defaults. Problems come back as one line naming the flag and what is accepted.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { RobustMQError } from '../errors.js';
import { envName, flagName, nodeConfigSchema, type NodeConfig } from './schema.js';

export interface ConfigSources {
  /** Parsed flags keyed by camelCase option name; undefined values are ignored. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
}

export const CONFIG_KEYS = Object.keys(nodeConfigSchema.shape) as Array<keyof NodeConfig>;

const camel = (key: string): string => key.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** A file's text; INVALID_ARGUMENT saying `what` could not be read, and why (ENOENT, EACCES, ...). */
function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new RobustMQError('INVALID_ARGUMENT', `${what}: ${reason}`);
  }
}

export function readConfigFile(file: string): Record<string, unknown> {
  const text = readText(file, `cannot read config file ${file}`);
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new RobustMQError('INVALID_ARGUMENT', `config file ${file} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RobustMQError('INVALID_ARGUMENT', `config file ${file} must hold a mapping of option names to values`);
  }
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(parsed)) {
    const key = camel(rawKey);
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      throw new RobustMQError('INVALID_ARGUMENT', `config file ${file}: unknown option "${rawKey}"`);
    }
    out[key] = value;
  }
  return out;
}

export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

export function loadConfig(sources: ConfigSources): NodeConfig {
  const env = sources.env ?? {};
  const configFile = sources.configFile ?? env.ROBUSTMQ_CONFIG;
  const merged: Record<string, unknown> = {
    ...(configFile ? readConfigFile(configFile) : {}),
    ...configFromEnv(env),
  };
  for (const [key, value] of Object.entries(sources.flags ?? {})) if (value !== undefined) merged[key] = value;
  readSecretFiles(merged);
  return validateConfig(merged);
}

/** `<key>File` options (Docker/Kubernetes/ECS secrets mounted as files) fill `<key>` when it is not given directly. */
const SECRET_FILES = { adminTokenFile: 'adminToken', clusterSecretFile: 'clusterSecret' } as const;

function readSecretFiles(merged: Record<string, unknown>): void {
  for (const [fileKey, key] of Object.entries(SECRET_FILES)) {
    const file = merged[fileKey];
    if (typeof file !== 'string' || file === '' || (merged[key] !== undefined && merged[key] !== '')) continue;
    merged[key] = readText(file, `--${flagName(fileKey)}: cannot read ${file}`).replace(/\r?\n$/, '');
  }
}

export function validateConfig(input: Record<string, unknown>): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new RobustMQError('INVALID_ARGUMENT', describeIssue(parsed.error.issues[0], input));
}

function describeIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const key = String(issue.path[0] ?? '');
  const flag = `--${flagName(key)}`;
  const got = key in input ? ` (got ${JSON.stringify(input[key])})` : '';
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `invalid ${flag}: expected one of ${issue.values.map(String).join(', ')}${got}`;
  }
  return `invalid ${flag}: ${issue.message}${got}`;
}
