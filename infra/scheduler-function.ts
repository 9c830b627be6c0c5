/**
 * The scheduler: a Lambda function (Node 24, ARM64) run every minute by EventBridge. It reads the broker leases
 * from the MetaStore table and the load balancer's traffic from CloudWatch, sets the broker service's desired
 * count through the ECS API, and runs the partition leadership pass: the partitions of brokers whose lease expired
 * go to live brokers, with their epochs bumped (handler: runtime/scheduler/lambda.ts, bundled with esbuild at
 * synth). With the meta service deployed that pass has normally been done within seconds already.
 */
import path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { envName } from '../runtime/config/schema.js';
import { CONNECTIONS_METRIC, SCHEDULER_ENV } from '../runtime/scheduler/names.js';
import { REPO_ROOT, type BrokerService } from './broker-service.js';
import type { DataStore } from './data-store.js';
import type { BrokerLoadBalancer } from './load-balancer.js';

/** What a scheduler (this function, or the meta service) does with the table: read leases, topics and leadership; write leadership and fences. */
export const SCHEDULER_DYNAMODB_ACTIONS = [
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  // Leadership entries and S3 write-lease fences are compare-and-set writes (UpdateItem, or PutItem when the
  // entry is new or expired); entries of deleted topics are removed with a conditional DeleteItem. A transaction
  // (TransactWriteItems) is authorized per item by these same actions plus ConditionCheckItem for its checks.
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * Packages replaced in the function's bundle, by paths relative to the repository root (esbuild's working
 * directory): `@node-rs/crc32` is a native addon, which neither goes into a bundle nor exists in the Lambda runtime
 * (runtime/scheduler/crc32.ts says what replaces it).
 */
export const SCHEDULER_ALIASES = { '@node-rs/crc32': './runtime/scheduler/crc32.ts' } as const;

/**
 * esbuild options of the function's bundle (test/unit/scheduler-lambda.test.ts builds and runs the same bundle).
 * The Node.js runtime ships the AWS SDK v3, so it stays out; CommonJS dependencies (pino) call require(), so the
 * ES module bundle gets one.
 */
export const SCHEDULER_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  externalModules: ['@aws-sdk/*'],
  banner: "import{createRequire as __rq}from'node:module';const require=__rq(import.meta.url);",
  esbuildArgs: { '--alias': Object.entries(SCHEDULER_ALIASES).map(([from, to]) => `${from}=${to}`) },
} satisfies nodejs.BundlingOptions;

export interface SchedulerFunctionProps {
  readonly brokers: BrokerService;
  readonly loadBalancer: BrokerLoadBalancer;
  readonly data: DataStore;
  readonly minBrokers: number;
  readonly maxBrokers: number;
  readonly connectionsPerBroker: number;
  readonly idleMinutes: number;
  readonly logRetention: logs.RetentionDays;
}

export class SchedulerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly rule: events.Rule;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SchedulerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'RobustMQ scheduler: read broker leases and traffic, set the broker count, reassign partition leaders',
    });
    this.logGroup.grantWrite(role);
    this.grant(role, props);

    const service = props.brokers.service;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'runtime/scheduler/lambda.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(50),
      role,
      logGroup: this.logGroup,
      description: 'RobustMQ scheduler: scales the broker service and reassigns partition leaders (runtime/scheduler)',
      environment: {
        [SCHEDULER_ENV.cluster]: props.brokers.cluster.clusterName,
        [SCHEDULER_ENV.service]: service.serviceName,
        [SCHEDULER_ENV.loadBalancer]: props.loadBalancer.loadBalancer.loadBalancerFullName,
        [SCHEDULER_ENV.minBrokers]: String(props.minBrokers),
        [SCHEDULER_ENV.maxBrokers]: String(props.maxBrokers),
        [SCHEDULER_ENV.connectionsPerBroker]: String(props.connectionsPerBroker),
        [SCHEDULER_ENV.idleMinutes]: String(props.idleMinutes),
        [envName('dynamodbTablePrefix')]: props.data.tablePrefix,
        [envName('dynamodbRegion')]: Stack.of(this).region,
        [envName('logLevel')]: 'info',
      },
      bundling: SCHEDULER_BUNDLING,
    });
    this.rule = new events.Rule(this, 'EveryMinute', {
      description: 'Runs the RobustMQ scheduler',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A missed run is replaced by the next one a minute later.
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }

  private grant(role: iam.Role, props: SchedulerFunctionProps): void {
    const service = props.brokers.service;
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resources: [service.serviceArn] }));
    role.addToPolicy(
      new iam.PolicyStatement({ actions: SCHEDULER_DYNAMODB_ACTIONS, resources: props.data.tables.map((t) => t.tableArn) }),
    );
    // CloudWatch has no resource-level permissions for these; the namespace condition confines the writes.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': CONNECTIONS_METRIC.namespace } },
      }),
    );
  }
}
