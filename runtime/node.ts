/**
 * The composition root of a standalone node: embedded meta + storage engines + core + protocol front-ends + admin
 * API in one process. Order matters: meta and storage open first, listeners last, so /healthz only turns 200 once
 * every listener accepts.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startAdminServer, type AdminServer } from './admin/server.js';
import type { NodeConfig } from './config/schema.js';
import type { BrokerContext, ProtocolServer } from './context.js';
import { ClientRegistry } from './core/clients.js';
import { TopicManager } from './core/topics.js';
import { createLogger, type Logger } from './logger.js';
import { openMetaStore } from './meta/open.js';
import type { MetaStore } from './meta/store.js';
import { Metrics } from './metrics.js';
import { PROTOCOLS, type ProtocolFactory } from './protocols.js';
import { openEngines } from './storage/open.js';

export interface NodePorts {
  admin: number;
  [listener: string]: number;
}

export interface RunningNode {
  readonly config: NodeConfig;
  readonly ports: NodePorts;
  readonly context: BrokerContext;
  /** Graceful stop: stop accepting, finish in-flight work, flush storage. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  protocols?: ProtocolFactory[];
}

export async function startNode(config: NodeConfig, options: StartOptions = {}): Promise<RunningNode> {
  const log = options.log ?? createLogger(config.logLevel);
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
  };
  log.debug({ config }, 'effective configuration');
  try {
    const meta: MetaStore = await openMetaStore(config, dataDir, log);
    closers.push(() => meta.close());
    const engines = await openEngines({ config, dataDir, meta, log });
    closers.push(async () => {
      for (const engine of Object.values(engines)) await engine.close();
    });
    const metrics = new Metrics();
    const topics = new TopicManager(
      meta,
      engines,
      {
        storage: config.storage,
        partitions: config.defaultPartitions,
        retentionMs: config.retentionMs,
        retentionBytes: config.retentionBytes,
        maxBatchBytes: config.maxMessageBytes,
      },
      metrics,
      log,
    );
    await topics.start();
    topics.startRetention(config.retentionCheckMs);
    closers.push(() => topics.close());
    const context: BrokerContext = { config, log, meta, topics, metrics, clients: new ClientRegistry() };

    let healthy = false;
    const admin: AdminServer = await startAdminServer(context, () => healthy);
    closers.push(() => admin.close());
    const ports: NodePorts = { admin: admin.port };
    const servers: ProtocolServer[] = [];
    for (const factory of options.protocols ?? PROTOCOLS) {
      const server = factory(context);
      closers.push(() => server.close());
      Object.assign(ports, await server.listen());
      servers.push(server);
    }
    healthy = true;
    log.info({ ports, dataDir, storage: config.storage, meta: config.meta }, 'robustmq node started');

    let closing: Promise<void> | undefined;
    return {
      config,
      ports,
      context,
      close: () => {
        healthy = false;
        closing ??= closeAll().then(() => log.info('robustmq node stopped'));
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
