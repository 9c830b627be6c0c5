/**
 * The meta service: one small Fargate task running `robustmq meta`, the scheduler loop that reassigns the
 * partitions of a broker whose lease expired within a poll interval (half a second by default) instead of at the
 * scheduler function's next run, up to a minute later. It needs no inbound traffic at all: it talks to DynamoDB
 * only (through the VPC's gateway endpoint), and ECS checks its health inside the container.
 *
 * A rolling deployment starts the new task before stopping the old one; the two never act at once, because the
 * active scheduler holds a lease in the MetaStore and the other stands by until it expires.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { metaConfig, toEnvironment } from './broker-env.js';
import type { DataStore } from './data-store.js';
import type { Network } from './network.js';
import { HEALTHCHECK_SCRIPT } from './ports.js';
import { SCHEDULER_DYNAMODB_ACTIONS } from './scheduler-function.js';


export interface MetaServiceProps {
  readonly cluster: ecs.ICluster;
  readonly network: Network;
  readonly data: DataStore;
  readonly image: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
  /** Fargate CPU units. @default 256 (0.25 vCPU, the smallest task) */
  readonly cpu?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
}

export class MetaService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  static readonly CONTAINER = 'meta';

  constructor(scope: Construct, id: string, props: MetaServiceProps) {
    super(scope, id);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryMiB ?? 512,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: SCHEDULER_DYNAMODB_ACTIONS, resources: props.data.tables.map((t) => t.tableArn) }),
    );
    const stopTimeout = Duration.seconds(30);
    const config = metaConfig({
      region: Stack.of(this).region,
      tablePrefix: props.data.tablePrefix,
      shutdownTimeoutMs: stopTimeout.toMilliseconds() - 5_000,
    });
    this.taskDefinition.addContainer(MetaService.CONTAINER, {
      image: props.image,
      command: ['meta'],
      environment: toEnvironment(config),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'meta', logGroup: props.logGroup }),
      healthCheck: {
        command: ['CMD', 'node', '-e', HEALTHCHECK_SCRIPT],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      stopTimeout,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      vpcSubnets: props.network.brokerSubnets,
      assignPublicIp: props.network.assignPublicIp,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
}
