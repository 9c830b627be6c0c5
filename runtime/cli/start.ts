/**
 * `robustmq start`: a standalone node. Every config key is a flag (`--kebab-case`), also readable from
 * ROBUSTMQ_* env vars and `--config FILE`.
 */
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { startNode } from '../node.js';
import { addConfigOptions } from './options.js';

export function startCommand(): Command {
  const cmd = new Command('start').description('run a standalone node: embedded meta, storage and every protocol in one process');
  addConfigOptions(cmd);
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
