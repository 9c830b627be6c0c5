/**
 * The scheduler: a Lambda function (Node 24, ARM64) run every minute by EventBridge. It reads the broker leases
 * from the MetaStore table and the load balancer's traffic from CloudWatch, and sets the broker service's desired
 * count through the ECS API (handler: runtime/scheduler/lambda.ts, bundled with esbuild at synth).
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

/** Reads only: the scheduler writes nothing yet (re-assigning partition leadership will add PutItem, UpdateItem and ConditionCheckItem). */
export const SCHEDULER_DYNAMODB_ACTIONS = ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'];

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
      description: 'RobustMQ scheduler: read broker leases and traffic, set the broker count',
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
      description: 'RobustMQ scheduler: scales the broker service (runtime/scheduler)',
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
