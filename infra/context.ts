/** Stack props from CDK context (`-c key=value` on the command line, or cdk.json's "context"). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { App } from 'aws-cdk-lib';
import type { RobustMQStackProps } from './stack.js';

export const CONTEXT_KEYS = [
  'stackName',
  'vpcId',
  'minBrokers',
  'maxBrokers',
  'brokerCpu',
  'brokerMemoryMiB',
  'flushIntervalMs',
  'certificateArn',
  'plaintext',
  'domainName',
  'auth',
  'initialUser',
  'retentionDays',
  'logRetentionDays',
  'connectionsPerBroker',
  'idleMinutes',
  'tablePrefix',
  'removalPolicy',
  'containerInsights',
  'schedulerService',
] as const;

type Get = (key: (typeof CONTEXT_KEYS)[number]) => unknown;

function num(get: Get, key: (typeof CONTEXT_KEYS)[number]): number | undefined {
  const raw = get(key);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`context ${key} must be a number (got ${JSON.stringify(raw)})`);
  return value;
}

function str(get: Get, key: (typeof CONTEXT_KEYS)[number]): string | undefined {
  const raw = get(key);
  return raw === undefined || raw === '' ? undefined : String(raw);
}

function flag(raw: unknown, key: string): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`context ${key} must be true or false (got ${JSON.stringify(raw)})`);
}

export function propsFromContext(app: App): { stackName: string; props: RobustMQStackProps } {
  const get: Get = (key) => app.node.tryGetContext(key);
  const flushMs = num(get, 'flushIntervalMs');
  const retentionDays = num(get, 'retentionDays');
  const logDays = num(get, 'logRetentionDays');
  const removal = str(get, 'removalPolicy');
  if (removal !== undefined && removal !== 'retain' && removal !== 'destroy') {
    throw new Error(`context removalPolicy must be retain or destroy (got ${removal})`);
  }
  if (logDays !== undefined && !Object.values(logs.RetentionDays).includes(logDays as logs.RetentionDays)) {
    throw new Error(`context logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, ...; got ${logDays})`);
  }
  const auth = str(get, 'auth');
  if (auth !== undefined && auth !== 'on' && auth !== 'off') {
    throw new Error(`context auth must be on or off (got ${auth}); off lets anyone who reaches the load balancer read and write every topic`);
  }
  const insights = get('containerInsights');
  const schedulerService = get('schedulerService');
  return {
    stackName: str(get, 'stackName') ?? 'RobustMQ',
    props: {
      vpcId: str(get, 'vpcId'),
      minBrokers: num(get, 'minBrokers'),
      maxBrokers: num(get, 'maxBrokers'),
      brokerCpu: num(get, 'brokerCpu'),
      brokerMemoryMiB: num(get, 'brokerMemoryMiB'),
      flushInterval: flushMs === undefined ? undefined : Duration.millis(flushMs),
      certificateArn: str(get, 'certificateArn'),
      plaintext: flag(get('plaintext'), 'plaintext'),
      domainName: str(get, 'domainName'),
      auth: auth as 'on' | 'off' | undefined,
      initialUser: str(get, 'initialUser'),
      retention: retentionDays === undefined ? undefined : Duration.days(retentionDays),
      logRetention: logDays as logs.RetentionDays | undefined,
      connectionsPerBroker: num(get, 'connectionsPerBroker'),
      idleMinutes: num(get, 'idleMinutes'),
      tablePrefix: str(get, 'tablePrefix'),
      removalPolicy: removal === undefined ? undefined : removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      containerInsights: insights === undefined ? undefined : insights === true || insights === 'true',
      schedulerService: flag(schedulerService, 'schedulerService'),
    },
  };
}
