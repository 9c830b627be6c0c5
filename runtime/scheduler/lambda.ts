/**
 * The scheduler's AWS Lambda handler, run every minute by an EventBridge rule (infra/scheduler-function.ts): scales
 * the broker service and runs the partition leadership pass (reassign.ts).
 * It opens the DynamoDB MetaStore from the same ROBUSTMQ_DYNAMODB_* variables a broker reads (the table must
 * exist: the stack creates it) and keeps it open across warm invocations; AWS clients take the region and
 * credentials from the Lambda environment.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { createLogger } from '../logger.js';
import { DynamoMetaStore } from '../meta/dynamodb/store.js';
import { CloudWatchTraffic } from './cloudwatch.js';
import { EcsServiceScaler } from './ecs.js';
import { schedulerReassign } from './reassign.js';
import { readSchedulerSettings, type SchedulerSettings } from './settings.js';
import { runSchedulerTick, type SchedulerDeps, type TickResult } from './tick.js';

interface Prepared {
  readonly deps: SchedulerDeps;
  readonly settings: SchedulerSettings;
  readonly clients: { readonly ecs: ECSClient; readonly cloudwatch: CloudWatchClient };
}

let prepared: Promise<Prepared> | undefined;

async function prepare(env: NodeJS.ProcessEnv): Promise<Prepared> {
  const settings = readSchedulerSettings(env);
  const log = createLogger(settings.logLevel, { pretty: false });
  const meta = await DynamoMetaStore.open({ ...settings.meta, createTables: false, log });
  const clients = { ecs: new ECSClient({}), cloudwatch: new CloudWatchClient({}) };
  return {
    settings,
    clients,
    deps: {
      meta,
      log,
      service: new EcsServiceScaler(clients.ecs, settings.cluster, settings.service),
      traffic: new CloudWatchTraffic(clients.cloudwatch, settings.loadBalancer, settings.service),
      reassign: schedulerReassign(log),
    },
  };
}

/** EventBridge scheduled event in, the run's outcome out (also logged). */
export async function handler(): Promise<TickResult> {
  prepared ??= prepare(process.env).catch((err: unknown) => {
    prepared = undefined;
    throw err;
  });
  const { deps, settings } = await prepared;
  const result = await runSchedulerTick(deps, settings.policy);
  deps.log.info({ tick: result }, 'scheduler run');
  return result;
}

/** Closes what earlier invocations opened (tests; Lambda itself just freezes the process). */
export async function closeScheduler(): Promise<void> {
  const current = prepared;
  prepared = undefined;
  const done = await current?.catch(() => undefined);
  if (!done) return;
  done.clients.ecs.destroy();
  done.clients.cloudwatch.destroy();
  await done.deps.meta.close();
}
