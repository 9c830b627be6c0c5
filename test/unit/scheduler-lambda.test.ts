/**
 * The scheduler function as deployed: runtime/scheduler/lambda.ts bundled by esbuild with the options the CDK app
 * uses (AWS SDK left external, as the Lambda runtime provides it; the native CRC-32 addon replaced), loaded and
 * invoked with the environment the stack sets. Metadata in dynalite; ECS and CloudWatch mocked at the SDK level.
 */
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { crc32 as nativeCrc32 } from '@node-rs/crc32';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/broker-service.js';
import { SCHEDULER_ALIASES, SCHEDULER_BUNDLING } from '../../infra/scheduler-function.js';
import type { PartitionLeader } from '../../runtime/cluster/records.js';
import { envName } from '../../runtime/config/schema.js';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import { SCHEDULER_ENV } from '../../runtime/scheduler/names.js';
import type { TickResult } from '../../runtime/scheduler/tick.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';

interface Bundle {
  handler(): Promise<TickResult>;
  closeScheduler(): Promise<void>;
}

const ecsMock = mockClient(ECSClient);
const cwMock = mockClient(CloudWatchClient);
const savedEnv = { ...process.env };
let dir: string;
let dynamo: Dynalite;
let bundle: Bundle;
let bundledInputs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-lambda-'));
  // The bundle imports the AWS SDK from node_modules, as the Lambda runtime would provide it.
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const outfile = path.join(dir, 'index.mjs');
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, 'runtime/scheduler/lambda.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: SCHEDULER_BUNDLING.target,
    mainFields: [...SCHEDULER_BUNDLING.mainFields],
    minify: SCHEDULER_BUNDLING.minify,
    sourcemap: SCHEDULER_BUNDLING.sourceMap,
    external: [...SCHEDULER_BUNDLING.externalModules],
    banner: { js: SCHEDULER_BUNDLING.banner },
    alias: { ...SCHEDULER_ALIASES },
    absWorkingDir: REPO_ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  bundledInputs = Object.keys(result.metafile.inputs);

  dynamo = await startDynalite();
  const setup = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, tablePrefix: 'deployed' });
  const now = Date.now();
  await setup.put('brokers', 'b1', { id: 'b1', host: '10.0.1.9', startedAt: now - 7_200_000, heartbeatAt: now, lastActivityAt: now - 3_600_000, connections: { mqtt: 0 } }, { ttlMs: 60_000 });
  // Two partitions still led by b0, whose lease is long gone.
  await setup.put('topics', 'orders', { name: 'orders', partitions: 2, storage: 's3', retentionMs: -1, retentionBytes: -1, cleanupPolicy: 'delete', mqttBindings: [], createdAt: now, configs: {} });
  for (const partition of [0, 1]) await setup.put('partitions', `orders/${partition}`, { topic: 'orders', partition, leader: 'b0', epoch: 2, since: now - 600_000 });
  await setup.close();

  Object.assign(process.env, {
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    [SCHEDULER_ENV.cluster]: 'deployed-cluster',
    [SCHEDULER_ENV.service]: 'deployed-brokers',
    [SCHEDULER_ENV.loadBalancer]: 'net/deployed/0123',
    [SCHEDULER_ENV.minBrokers]: '1',
    [SCHEDULER_ENV.maxBrokers]: '4',
    [SCHEDULER_ENV.connectionsPerBroker]: '5000',
    [SCHEDULER_ENV.idleMinutes]: '15',
    [envName('dynamodbTablePrefix')]: 'deployed',
    [envName('dynamodbRegion')]: TEST_REGION,
    [envName('dynamodbEndpoint')]: dynamo.endpoint,
    [envName('logLevel')]: 'silent',
  });
  bundle = (await import(pathToFileURL(outfile).href)) as Bundle;
});

afterAll(async () => {
  await bundle?.closeScheduler();
  ecsMock.restore();
  cwMock.restore();
  process.env = savedEnv;
  await dynamo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scheduler function bundle', () => {
  it('bundles the scheduler, the leadership pass and the DynamoDB MetaStore, leaving the AWS SDK to the runtime', () => {
    expect(bundledInputs).toContain('runtime/scheduler/tick.ts');
    expect(bundledInputs).toContain('runtime/cluster/reassign.ts');
    expect(bundledInputs).toContain('runtime/meta/dynamodb/store.ts');
    expect(bundledInputs.filter((f) => f.includes('@aws-sdk/'))).toEqual([]);
    expect(bundledInputs.filter((f) => f.endsWith('.node') || f.includes('@node-rs/') || f.includes('meta/embedded/store'))).toEqual([]);
  });

  it("replaces the native CRC-32 addon with Node's own, which computes the same checksums", async () => {
    expect(bundledInputs).toContain(SCHEDULER_ALIASES['@node-rs/crc32'].slice(2));
    const { crc32 } = (await import('../../runtime/scheduler/crc32.js')) as { crc32: (data: string | Buffer, initial?: number) => number };
    for (const input of ['', 'broker-1', 'ip-10-0-1-23.ec2.internal-3fa9c2', Buffer.from([0, 255, 1, 254])]) {
      expect(crc32(input)).toBe(nativeCrc32(input));
      expect(crc32(input, 12345)).toBe(nativeCrc32(input, 12345));
    }
  });

  it('reads the leases from DynamoDB, scales the idle service to minBrokers and publishes the metric', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 2, runningCount: 2, pendingCount: 0 }] });
    ecsMock.on(UpdateServiceCommand).resolves({});
    cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    cwMock.on(PutMetricDataCommand).resolves({});
    const result = await bundle.handler();
    expect(result.liveBrokers).toEqual(['b1']);
    expect(result.decision).toEqual({ desired: 1, reason: 'idle' });
    // The partitions of the dead broker went to the live one, each with the next epoch.
    expect(result.reassignment).toMatchObject({ moved: 2, leaderless: 0 });
    const check = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, tablePrefix: 'deployed' });
    try {
      const leaders = (await check.list<PartitionLeader>('partitions')).map((e) => e.value);
      expect(leaders.map((l) => [l.partition, l.leader, l.epoch])).toEqual([
        [0, 'b1', 3],
        [1, 'b1', 3],
      ]);
    } finally {
      await check.close();
    }
    expect(ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'deployed-cluster', service: 'deployed-brokers', desiredCount: 1 },
    ]);
    expect(ecsMock.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({ cluster: 'deployed-cluster', services: ['deployed-brokers'] });
    expect(cwMock.commandCalls(PutMetricDataCommand)[0]!.args[0].input.MetricData?.[0]).toMatchObject({ MetricName: 'ConnectionsPerBroker', Value: 0 });
  });

  it('keeps its MetaStore across warm invocations', async () => {
    ecsMock.reset();
    ecsMock.on(DescribeServicesCommand).resolves({ services: [{ status: 'ACTIVE', desiredCount: 1, runningCount: 1, pendingCount: 0 }] });
    const result = await bundle.handler();
    expect(result.decision).toEqual({ desired: 1, reason: 'unchanged' });
    expect(result.reassignment).toMatchObject({ moved: 0, leaderless: 0 });
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});
