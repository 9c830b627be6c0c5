/**
 * RobustMQ on AWS, pay-per-use: brokers (`robustmq broker`) on Fargate behind a network load balancer, records in
 * S3, metadata in DynamoDB on demand, a scheduler function that scales the brokers (down to `minBrokers`, which
 * may be 0, when idle) and reassigns partition leaders once a minute, and by default a one-task meta service
 * (`robustmq meta`) that reassigns them within seconds of a broker's death. See docs/deploy.md.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BrokerService } from './broker-service.js';
import { DataStore } from './data-store.js';
import { BrokerLoadBalancer } from './load-balancer.js';
import { MetaService } from './meta-service.js';
import { acknowledgeFindings } from './nag.js';
import { Network } from './network.js';
import { BROKER_PORTS, TLS_PORTS } from './ports.js';
import { SchedulerFunction } from './scheduler-function.js';

export interface RobustMQStackProps extends StackProps {
  /**
   * Run in this VPC instead of a new one (its public subnets hold the load balancer; see `brokerSubnets`).
   * @default a new VPC with public subnets in two zones, S3 and DynamoDB gateway endpoints and no NAT gateway
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Id of an existing VPC to look up when `vpc` is not given (needs the stack's account and region).
   * @default none: see `vpc`
   */
  readonly vpcId?: string;
  /**
   * Subnets of the broker tasks.
   * @default the public subnets (tasks get public IPs; only the load balancer may connect to them)
   */
  readonly brokerSubnets?: ec2.SubnetSelection;
  /**
   * Fewest brokers; 0 lets an idle deployment run no broker at all (the scheduler starts one when clients try
   * to connect, about two minutes later).
   * @default 1
   */
  readonly minBrokers?: number;
  /** Most brokers. @default 4 */
  readonly maxBrokers?: number;
  /** Fargate CPU units of a broker task (256 = 0.25 vCPU). @default 256 */
  readonly brokerCpu?: number;
  /** Memory of a broker task in MiB. @default 512 */
  readonly brokerMemoryMiB?: number;
  /** How often a broker flushes buffered records to S3 (one object per flush). @default Duration.millis(250) */
  readonly flushInterval?: Duration;
  /** ACM certificate ARN; adds TLS listeners for MQTT (8883) and Kafka (9093, replacing 9092). @default no TLS */
  readonly certificateArn?: string;
  /** Default topic retention, and the bucket lifecycle's limit (this plus a day). @default Duration.days(7) */
  readonly retention?: Duration;
  /** Retention of the brokers' and the scheduler's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Connections a broker is sized for: the target of the connections scaling policy. @default 5000 */
  readonly connectionsPerBroker?: number;
  /** Minutes without any client before the scheduler scales the brokers to `minBrokers`. @default 15 */
  readonly idleMinutes?: number;
  /** Prefix of the DynamoDB table names. @default the stack name in lower case */
  readonly tablePrefix?: string;
  /** Deleting the stack deletes the bucket (emptied first) and table too when DESTROY. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** ECS Container Insights (billed per metric). @default false */
  readonly containerInsights?: boolean;
  /** Broker image. @default built from local/Dockerfile for linux/arm64 */
  readonly image?: ecs.ContainerImage;
  /**
   * Run the meta service: one Fargate task (0.25 vCPU, 0.5 GB) of `robustmq meta`, which gives the partitions of
   * a broker whose lease expired to live brokers within about a second. Without it the scheduler function does so
   * at its next run, up to a minute later, and those partitions refuse clients meanwhile. It runs while the
   * brokers are scaled to zero too: about $17 a month at us-east-1 list prices (the task, its public IPv4 address
   * and its DynamoDB requests; docs/deploy.md).
   * @default true
   */
  readonly schedulerService?: boolean;
}

export class RobustMQStack extends Stack {
  readonly network: Network;
  readonly data: DataStore;
  readonly loadBalancer: BrokerLoadBalancer;
  readonly brokers: BrokerService;
  readonly scheduler: SchedulerFunction;
  /** The meta service; undefined when `schedulerService` is false. */
  readonly metaService?: MetaService;

  constructor(scope: Construct, id: string, props: RobustMQStackProps = {}) {
    super(scope, id, props);
    const minBrokers = props.minBrokers ?? 1;
    const maxBrokers = props.maxBrokers ?? Math.max(4, minBrokers);
    if (!Number.isInteger(minBrokers) || minBrokers < 0) throw new Error(`minBrokers must be an integer >= 0 (got ${minBrokers})`);
    if (!Number.isInteger(maxBrokers) || maxBrokers < Math.max(1, minBrokers)) {
      throw new Error(`maxBrokers must be an integer >= max(1, minBrokers) (got ${maxBrokers})`);
    }
    const retention = props.retention ?? Duration.days(7);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const connectionsPerBroker = props.connectionsPerBroker ?? 5000;

    const vpc = props.vpc ?? (props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined);
    this.network = new Network(this, 'Network', { vpc, brokerSubnets: props.brokerSubnets });
    this.data = new DataStore(this, 'Data', {
      tablePrefix: props.tablePrefix ?? this.stackName.toLowerCase(),
      retention,
      removalPolicy: props.removalPolicy,
    });
    this.loadBalancer = new BrokerLoadBalancer(this, 'LoadBalancer', { vpc: this.network.vpc, certificateArn: props.certificateArn });
    this.brokers = new BrokerService(this, 'Brokers', {
      network: this.network,
      data: this.data,
      loadBalancer: this.loadBalancer,
      minBrokers,
      maxBrokers,
      cpu: props.brokerCpu ?? 256,
      memoryMiB: props.brokerMemoryMiB ?? 512,
      flushInterval: props.flushInterval ?? Duration.millis(250),
      retention,
      logRetention,
      connectionsPerBroker,
      containerInsights: props.containerInsights ?? false,
      image: props.image,
    });
    if (props.schedulerService ?? true) {
      this.metaService = new MetaService(this, 'Meta', {
        cluster: this.brokers.cluster,
        network: this.network,
        data: this.data,
        image: this.brokers.image,
        logGroup: this.brokers.logGroup,
      });
    }
    this.scheduler = new SchedulerFunction(this, 'Scheduler', {
      brokers: this.brokers,
      loadBalancer: this.loadBalancer,
      data: this.data,
      minBrokers,
      maxBrokers,
      connectionsPerBroker,
      idleMinutes: props.idleMinutes ?? 15,
      logRetention,
    });
    this.outputs(props.certificateArn !== undefined);
    acknowledgeFindings(this, { containerInsights: props.containerInsights ?? false });
  }

  private outputs(tls: boolean): void {
    const dns = this.loadBalancer.loadBalancer.loadBalancerDnsName;
    new CfnOutput(this, 'LoadBalancerDns', { value: dns, description: 'DNS name of the load balancer' });
    new CfnOutput(this, 'MqttEndpoint', { value: `mqtt://${dns}:${BROKER_PORTS.mqtt}`, description: 'MQTT over TCP' });
    new CfnOutput(this, 'WebSocketEndpoint', { value: `ws://${dns}:${BROKER_PORTS.ws}/mqtt`, description: 'MQTT over WebSocket' });
    new CfnOutput(this, 'KafkaBootstrap', {
      value: `${dns}:${this.loadBalancer.kafkaPort}`,
      description: tls ? 'Kafka bootstrap server (TLS)' : 'Kafka bootstrap server',
    });
    if (tls) new CfnOutput(this, 'MqttTlsEndpoint', { value: `mqtts://${dns}:${TLS_PORTS.mqtt}`, description: 'MQTT over TLS' });
    new CfnOutput(this, 'BucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'MetaTableName', { value: this.data.metaTable.tableName });
    new CfnOutput(this, 'ClusterName', { value: this.brokers.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.brokers.service.serviceName });
    if (this.metaService) {
      new CfnOutput(this, 'MetaServiceName', { value: this.metaService.service.serviceName, description: 'The robustmq meta service' });
    }
    new CfnOutput(this, 'BrokerLogGroup', { value: this.brokers.logGroup.logGroupName });
    new CfnOutput(this, 'SchedulerFunctionName', { value: this.scheduler.function.functionName });
  }
}
