/**
 * `robustmq start`: a standalone node. Every config key is a flag (`--kebab-case`), also readable from
 * ROBUSTMQ_* env vars and `--config FILE`.
 */
import { Command, Option } from 'commander';
import { loadConfig, CONFIG_KEYS } from '../config/load.js';
import { flagName, envName, nodeConfigSchema } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { startNode } from '../node.js';

const HELP: Record<string, string> = {
  dataDir: 'directory for topic data and metadata',
  host: 'address the listeners bind to',
  mqttPort: 'MQTT over TCP port (0 = pick a free port)',
  wsPort: 'MQTT over WebSocket port, path /mqtt (0 = pick a free port)',
  kafkaPort: 'Kafka protocol port (0 = pick a free port)',
  adminPort: 'admin HTTP API port: /healthz, /metrics, /api/v1 (0 = pick a free port)',
  storage: 'default storage engine of new topics',
  meta: 'metadata store',
  logLevel: 'log level',
  flush: 'default durability of persistent engines: always, os or interval:MS',
  defaultPartitions: 'partitions of auto-created topics',
  retentionMs: 'default topic retention in ms (-1 = forever)',
  retentionBytes: 'default retention size per partition in bytes (-1 = unlimited)',
  retentionCheckMs: 'how often retention runs, in ms',
  maxMessageBytes: 'largest record batch or message accepted, in bytes',
  autoCreateTopics: 'create Kafka topics on first use',
  shutdownTimeoutMs: 'time allowed for a graceful shutdown, in ms',
};

function isBooleanKey(key: string): boolean {
  const parsed = nodeConfigSchema.safeParse({});
  return parsed.success && typeof (parsed.data as Record<string, unknown>)[key] === 'boolean';
}

export function startCommand(): Command {
  const cmd = new Command('start').description('run a standalone node: embedded meta, storage and every protocol in one process');
  cmd.option('-c, --config <file>', 'YAML or JSON config file (env ROBUSTMQ_CONFIG)');
  const defaults = nodeConfigSchema.parse({}) as Record<string, unknown>;
  for (const key of CONFIG_KEYS) {
    const field = nodeConfigSchema.shape[key] as { description?: string };
    const help = `${field.description ?? HELP[key] ?? key} [env ${envName(key)}]`;
    if (isBooleanKey(key)) {
      cmd.addOption(new Option(`--${flagName(key)}`, `${help} (default ${String(defaults[key])})`));
      cmd.addOption(new Option(`--no-${flagName(key)}`, `disable --${flagName(key)}`));
    } else {
      cmd.addOption(new Option(`--${flagName(key)} <value>`, help).default(undefined, String(defaults[key])));
    }
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    const { config: configFile, ...flags } = opts;
    const config = loadConfig({ flags, env: process.env, configFile: configFile as string | undefined });
    await runUntilSignal(config);
  });
  return cmd;
}

async function runUntilSignal(config: ReturnType<typeof loadConfig>): Promise<void> {
  const log = createLogger(config.logLevel);
  const node = await startNode(config, { log });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out, exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    node.close().then(
      () => {
        log.flush?.();
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
