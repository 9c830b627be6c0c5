/**
 * The composition root of a standalone node: embedded meta + storage engines + core + protocol front-ends + admin
 * API in one process. Order matters: meta and storage open first, listeners last, so /healthz only turns 200 once
 * every listener accepts.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startAdminServer, type AdminServer } from './admin/server.js';
import type { ClusterBroker } from './cluster/broker.js';
import { planCluster } from './cluster/compose.js';
import { redactConfig, type NodeConfig } from './config/schema.js';
import type { BrokerContext, ProtocolServer } from './context.js';
import { TopicBridge } from './core/bridge/bridge.js';
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
  /** 'broker': one broker of a cluster (runtime/cluster) on a shared MetaStore. @default 'standalone' */
  role?: 'standalone' | 'broker';
  /** Cluster broker: this process lost its membership or was fenced and must exit (the CLI exits non-zero). */
  onFatal?: (reason: string) => void;
}

export async function startNode(input: NodeConfig, options: StartOptions = {}): Promise<RunningNode> {
  const log = options.log ?? createLogger(input.logLevel);
  const cluster = options.role === 'broker' ? planCluster(input, log, (reason) => options.onFatal?.(reason)) : undefined;
  const config = cluster?.config ?? input;
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
  log.debug({ config: redactConfig(config) }, 'effective configuration');
  try {
    const meta: MetaStore = await openMetaStore(config, dataDir, log);
    closers.push(() => meta.close());
    const opened = await openEngines({ config, dataDir, meta, log });
    closers.push(async () => {
      for (const engine of Object.values(opened)) await engine.close();
    });
    const engines = cluster ? cluster.gate(opened) : opened;
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
    const clients = new ClientRegistry();
    const broker: ClusterBroker | undefined = cluster?.join({ meta, topics, clients, engines: engines as ReturnType<typeof cluster.gate> });
    const bridge = new TopicBridge(topics, log.child({ component: 'bridge' }));
    bridge.start();
    closers.push(() => bridge.close());
    const context: BrokerContext = { config, log, meta, topics, metrics, clients, bridge, ...(broker ? { cluster: broker } : {}) };

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
    if (broker) {
      await broker.start(ports);
      closers.push(() => broker.stop());
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
        // A cluster broker first hands its partitions over, while its listeners still answer (forwarding).
        const drained = broker ? broker.drain(Math.max(1000, config.shutdownTimeoutMs - 3000)) : Promise.resolve();
        closing ??= drained.then(closeAll).then(() => log.info('robustmq node stopped'));
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
