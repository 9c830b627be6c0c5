/**
 * The brokers: an ECS cluster and a Fargate service of ARM64 tasks running `robustmq broker` (one broker of a
 * cluster each: its own id and S3 write lease, the partitions the scheduler gives it), the image built from
 * local/Dockerfile, storage on S3 and metadata on DynamoDB. The task role reaches only the stack's bucket and
 * tables. Brokers reach each other on the internal ports (forwarded requests, authenticated with the cluster
 * secret) and nothing else reaches them. Credentials come from Secrets Manager as ECS secrets (infra/secrets.ts).
 * Application Auto Scaling tracks CPU and the connections-per-broker metric; the scheduler function adds
 * scale-to-minimum when idle and wake-up from zero (runtime/scheduler).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONNECTIONS_METRIC } from '../runtime/scheduler/names.js';
import { brokerConfig, toEnvironment } from './broker-env.js';
import type { DataStore } from './data-store.js';
import type { BrokerLoadBalancer } from './load-balancer.js';
import type { Network } from './network.js';
import type { ClusterSecrets } from './secrets.js';
import { BROKER_PORTS, HEALTHCHECK_SCRIPT, INTERNAL_PORTS } from './ports.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What a broker may do with its data: objects in the bucket, items in the tables. Nothing else. */
export const BROKER_S3_OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];
export const BROKER_DYNAMODB_ACTIONS = [
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export interface BrokerServiceProps {
  readonly network: Network;
  readonly data: DataStore;
  readonly loadBalancer: BrokerLoadBalancer;
  /** Host advertised to Kafka clients. @default the load balancer's DNS name */
  readonly advertisedHost?: string;
  /** The cluster secret, admin token and initial user's password, passed to the container as ECS secrets. */
  readonly secrets: ClusterSecrets;
  /** `--auth on`: clients log in and ACLs are enforced. */
  readonly auth: boolean;
  /** User the broker creates at start when missing; needs `secrets.initialUserPassword`. @default none */
  readonly initialUser?: string;
  readonly minBrokers: number;
  readonly maxBrokers: number;
  /** Fargate CPU units (256 = 0.25 vCPU). */
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly flushInterval: Duration;
  readonly retention: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly connectionsPerBroker: number;
  readonly containerInsights: boolean;
  /** @default built from local/Dockerfile for linux/arm64 */
  readonly image?: ecs.ContainerImage;
}

export class BrokerService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly logGroup: logs.LogGroup;
  /** The image of every RobustMQ task of the stack (brokers and the meta service). */
  readonly image: ecs.ContainerImage;
  /** Whether clients must log in (`--auth on`). */
  readonly auth: boolean;
  /** The user brokers create at start when missing; undefined without one. */
  readonly initialUser?: string;
  static readonly CONTAINER = 'broker';

  constructor(scope: Construct, id: string, props: BrokerServiceProps) {
    super(scope, id);
    const { network, data, loadBalancer } = props;
    this.auth = props.auth;
    this.initialUser = props.initialUser;
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: props.containerInsights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.image =
      props.image ??
      ecs.ContainerImage.fromDockerImageAsset(
        new DockerImageAsset(this, 'Image', { directory: REPO_ROOT, file: 'local/Dockerfile', platform: Platform.LINUX_ARM64 }),
      );
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.grantData(this.taskDefinition.taskRole, data);

    const stopTimeout = Duration.seconds(30);
    const config = brokerConfig({
      bucketName: data.bucket.bucketName,
      region: Stack.of(this).region,
      tablePrefix: data.tablePrefix,
      advertisedHost: props.advertisedHost ?? loadBalancer.loadBalancer.loadBalancerDnsName,
      advertisedPort: loadBalancer.kafkaPort === BROKER_PORTS.kafka ? undefined : loadBalancer.kafkaPort,
      flushIntervalMs: props.flushInterval.toMilliseconds(),
      retentionMs: props.retention.toMilliseconds(),
      shutdownTimeoutMs: stopTimeout.toMilliseconds() - 5_000,
      auth: props.auth,
      initialUser: props.initialUser,
    });
    if (props.initialUser !== undefined && !props.secrets.initialUserPassword) {
      throw new Error('BrokerService: an initial user needs its password secret (ClusterSecrets with initialUser)');
    }
    this.taskDefinition.addContainer(BrokerService.CONTAINER, {
      image: this.image,
      command: ['broker'],
      environment: toEnvironment(config),
      // Resolved by the execution role when a task starts; the task definition holds only the secrets' ARNs.
      secrets: props.secrets.containerSecrets(),
      portMappings: [...Object.values(BROKER_PORTS), ...Object.values(INTERNAL_PORTS)].map((containerPort) => ({
        containerPort,
        protocol: ecs.Protocol.TCP,
      })),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'broker', logGroup: this.logGroup }),
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
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minBrokers,
      vpcSubnets: network.brokerSubnets,
      assignPublicIp: network.assignPublicIp,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    loadBalancer.attach(this.service, BrokerService.CONTAINER);
    // Broker to broker (forwarded requests, MQTT messages), within the brokers' own security group. Ingress only:
    // the group's egress is already open (allowAllOutbound).
    for (const group of this.service.connections.securityGroups) {
      for (const port of Object.values(INTERNAL_PORTS)) group.addIngressRule(group, ec2.Port.tcp(port), `brokers to brokers on ${port}`);
    }

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minBrokers, maxCapacity: props.maxBrokers });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(5),
    });
    scaling.scaleToTrackCustomMetric('Connections', {
      metric: this.connectionsMetric(),
      targetValue: props.connectionsPerBroker,
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(5),
    });
  }

  /** Average connections per running broker, published each minute by the scheduler. */
  connectionsMetric(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: CONNECTIONS_METRIC.namespace,
      metricName: CONNECTIONS_METRIC.name,
      dimensionsMap: { [CONNECTIONS_METRIC.dimension]: this.service.serviceName },
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(1),
    });
  }

  private grantData(role: iam.IRole, data: DataStore): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: BROKER_S3_OBJECT_ACTIONS, resources: [data.bucket.arnForObjects('*')] }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [data.bucket.bucketArn] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: BROKER_DYNAMODB_ACTIONS, resources: data.tables.map((t) => t.tableArn) }),
    );
  }
}
