/**
 * `robustmq broker` and `robustmq meta`: the cluster roles of the one binary (runtime/cluster). A broker has no
 * embedded metadata: it joins through the shared store (`--meta dynamodb`, the default here) and serves the
 * partitions the scheduler gives it; `meta` runs the scheduler loop. Both take every config flag `start` takes.
 */
import { Command } from 'commander';
import { startMeta } from '../cluster/meta-role.js';
import { loadConfig } from '../config/load.js';
import { envName, type NodeConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../logger.js';
import { startNode } from '../node.js';
import { addConfigOptions } from './options.js';

/** Exit code of a broker that lost its membership or was fenced: its supervisor should start it again. */
export const EXIT_LOST_LEASE = 75;

/** Config for a cluster role: `--meta dynamodb`, and `--storage s3` when a bucket is set, unless given otherwise. */
function roleConfig(opts: Record<string, unknown>): NodeConfig {
  const { config: configFile, ...flags } = opts;
  const unset = (key: string): boolean => flags[key] === undefined && !process.env[envName(key)];
  if (unset('meta')) flags.meta = 'dynamodb';
  const bucket = flags.s3Bucket ?? process.env[envName('s3Bucket')];
  if (unset('storage') && bucket) flags.storage = 's3';
  return loadConfig({ flags, env: process.env, configFile: configFile as string | undefined });
}

function onSignals(log: Logger, timeoutMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ timeoutMs }, 'graceful shutdown timed out, exiting');
      process.exit(1);
    }, timeoutMs).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export function brokerCommand(): Command {
  const cmd = new Command('broker').description(
    'run one broker of a cluster: joins through the shared metadata store (--meta dynamodb) and serves the partitions it is given',
  );
  addConfigOptions(cmd).action(async (opts: Record<string, unknown>) => {
    const config = roleConfig(opts);
    const log = createLogger(config.logLevel);
    let node: Awaited<ReturnType<typeof startNode>> | undefined;
    // Replaced while paused or cut off: close connections (clients reconnect to live brokers) and storage (anything
    // still buffered is refused by the fence), then exit for the supervisor to start a fresh process.
    const onFatal = (reason: string): void => {
      log.fatal({ reason, exitCode: EXIT_LOST_LEASE }, 'exiting: this broker was replaced');
      const exit = (): never => {
        log.flush?.();
        process.exit(EXIT_LOST_LEASE);
      };
      setTimeout(exit, Math.min(5000, config.shutdownTimeoutMs)).unref();
      void (node ? node.close() : Promise.resolve()).finally(exit);
    };
    node = await startNode(config, { log, role: 'broker', onFatal });
    onSignals(log, config.shutdownTimeoutMs, () => node.close());
  });
  return cmd;
}

export function metaCommand(): Command {
  const cmd = new Command('meta').description(
    'run the cluster scheduler: watches broker leases, reassigns partition leaders (with fencing) and rebalances',
  );
  addConfigOptions(cmd).action(async (opts: Record<string, unknown>) => {
    const config = roleConfig(opts);
    const log = createLogger(config.logLevel);
    const running = await startMeta(config, log);
    onSignals(log, config.shutdownTimeoutMs, () => running.close());
  });
  return cmd;
}
