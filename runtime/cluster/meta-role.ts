/**
 * `robustmq meta`: the scheduler as a process. Opens the shared MetaStore, runs the scheduler loop
 * (scheduler-loop.ts) and answers GET /healthz on the admin port (200 once the store is open; the body says
 * whether this process is the active scheduler or standing by). The scaling Lambda runs the same leadership pass
 * once a minute (runtime/scheduler/tick.ts with `reassign: reassignLeadership`); this loop is what makes failover
 * take seconds, not a minute.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { NodeConfig } from '../config/schema.js';
import { RobustMQError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openMetaStore } from '../meta/open.js';
import { SchedulerLoop } from './scheduler-loop.js';

export interface RunningMeta {
  readonly port: number;
  readonly scheduler: SchedulerLoop;
  close(): Promise<void>;
}

export async function startMeta(config: NodeConfig, log: Logger): Promise<RunningMeta> {
  if (config.meta !== 'dynamodb') {
    throw new RobustMQError('INVALID_ARGUMENT', 'robustmq meta schedules brokers that share a metadata store: --meta dynamodb');
  }
  const meta = await openMetaStore(config, path.resolve(config.dataDir), log);
  const scheduler = new SchedulerLoop({
    meta,
    log: log.child({ component: 'scheduler' }),
    intervalMs: config.clusterPollMs,
    movesPerMinute: config.clusterMovesPerMinute,
  });
  let server: Server | undefined;
  try {
    server = createServer((req, res) => {
      const ok = req.url === '/healthz';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { status: 'ok', role: 'meta', active: scheduler.isActive } : { error: { code: 'NOT_FOUND' } }));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.adminPort, config.host, () => resolve());
    });
  } catch (err) {
    await meta.close();
    throw err;
  }
  scheduler.start();
  const port = (server.address() as AddressInfo).port;
  log.info({ port, scheduler: scheduler.id, intervalMs: config.clusterPollMs }, 'robustmq meta started');
  return {
    port,
    scheduler,
    close: async () => {
      await scheduler.stop();
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        server!.closeAllConnections();
      });
      await meta.close();
      log.info('robustmq meta stopped');
    },
  };
}
