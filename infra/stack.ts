/**
 * RobustMQ on AWS, pay-per-use: brokers (`robustmq broker`) on Fargate behind a network load balancer, records in
 * S3, metadata in DynamoDB on demand, a scheduler function that scales the brokers (down to `minBrokers`, which
 * may be 0, when idle) and reassigns partition leaders once a minute, and by default a one-task meta service
 * (`robustmq meta`) that reassigns them within seconds of a broker's death. See docs/deploy.md.
 *
 * Secure by default: clients log in (`--auth on`, a first user created with a generated password), brokers
 * authenticate each other with a generated cluster secret, and the load balancer serves TLS with an ACM
 * certificate; plaintext listeners and auth off are explicit opt-outs.
 */
import { Annotations, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { AuthMode } from '../runtime/core/auth/types.js';
import { USER_NAME } from '../runtime/core/auth/users.js';
import { BrokerService } from './broker-service.js';
import { DataStore } from './data-store.js';
import { BrokerLoadBalancer } from './load-balancer.js';
import { MetaService } from './meta-service.js';
import { acknowledgeFindings } from './nag.js';
import { Network } from './network.js';
import { BROKER_PORTS, TLS_PORTS } from './ports.js';
import { SchedulerFunction } from './scheduler-function.js';
import { ClusterSecrets } from './secrets.js';

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Synth's warning when a certificate comes without the name it covers (docs/deploy.md, "TLS or plaintext"). */
export const DOMAIN_NAME_WARNING =
  'certificateArn without domainName: Kafka clients are sent to the load balancer\'s own DNS name, which the certificate ' +
  'does not cover, so TLS clients that verify host names (the default) fail after bootstrap. Point a name the certificate ' +
  'covers at the load balancer and pass it as -c domainName=<name>.';

/** What synth says when neither TLS nor plaintext was chosen (docs/deploy.md, "TLS or plaintext"). */
export const LISTENER_CHOICE_ERROR =
  'RobustMQ: choose how clients reach the load balancer. Either give an ACM certificate for TLS ' +
  `(-c certificateArn=arn:aws:acm:<region>:<account>:certificate/<id>; MQTT ${TLS_PORTS.mqtt}, WSS ${TLS_PORTS.wss}, Kafka ${TLS_PORTS.kafka}), ` +
  `or accept unencrypted client traffic, passwords included, with -c plaintext=true (MQTT ${BROKER_PORTS.mqtt}, ` +
  `WebSocket ${BROKER_PORTS.ws}, Kafka ${BROKER_PORTS.kafka}). As stack props: certificateArn or plaintext: true. See docs/deploy.md.`;

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
  /**
   * ACM certificate ARN of the TLS listeners: MQTT 8883, MQTT over secure WebSocket 8084 and Kafka 9093, ending
   * TLS at the load balancer. Without it `plaintext` must be true.
   * @default none: no TLS listeners
   */
  readonly certificateArn?: string;
  /**
   * Plaintext client listeners: MQTT 1883 and MQTT over WebSocket 8083, and Kafka 9092 when there is no
   * certificate (with one, Kafka stays on TLS 9093 only: a broker advertises a single Kafka port). Passwords then
   * cross the network unencrypted; the stack refuses to synthesize with neither this nor `certificateArn`.
   * @default false
   */
  readonly plaintext?: boolean;
  /**
   * The DNS name clients use: one the certificate covers, that you point (CNAME or alias) at the load balancer.
   * Brokers advertise it to Kafka clients, which verify it against the certificate when they follow Metadata,
   * and the endpoint outputs use it. Without it a certificate leaves Kafka clients at the load balancer's own
   * name, which no ACM certificate covers (synth warns).
   * @default the load balancer's DNS name
   */
  readonly domainName?: string;
  /**
   * `on`: clients authenticate (Kafka SASL PLAIN/SCRAM, MQTT CONNECT user name and password) and ACLs are
   * enforced. `off` lets anyone who reaches the load balancer read and write every topic: an explicit, unsafe
   * opt-out. Brokers authenticate each other with the cluster secret either way.
   * @default 'on'
   */
  readonly auth?: AuthMode;
  /**
   * User the brokers create at start when it does not exist, with a password generated in Secrets Manager (the
   * stack's first login). Only with auth on.
   * @default 'admin' (with auth on)
   */
  readonly initialUser?: string;
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
  readonly secrets: ClusterSecrets;
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
    if (props.certificateArn === undefined && !props.plaintext) throw new Error(LISTENER_CHOICE_ERROR);
    if (props.domainName !== undefined && !DNS_NAME.test(props.domainName)) {
      throw new Error(`domainName must be a DNS name such as mq.example.com (got ${JSON.stringify(props.domainName)})`);
    }
    const auth = props.auth ?? 'on';
    if (auth !== 'on' && auth !== 'off') throw new Error(`auth must be on or off (got ${String(auth)})`);
    if (auth === 'off' && props.initialUser !== undefined) throw new Error('initialUser needs auth on (the user could not log in with auth off)');
    const initialUser = auth === 'on' ? (props.initialUser ?? 'admin') : undefined;
    if (initialUser !== undefined && !USER_NAME.test(initialUser)) {
      throw new Error(`initialUser must be 1-128 characters of A-Z a-z 0-9 . _ @ + - (got ${JSON.stringify(initialUser)})`);
    }

    const vpc = props.vpc ?? (props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined);
    this.network = new Network(this, 'Network', { vpc, brokerSubnets: props.brokerSubnets });
    this.data = new DataStore(this, 'Data', {
      tablePrefix: props.tablePrefix ?? this.stackName.toLowerCase(),
      retention,
      removalPolicy: props.removalPolicy,
    });
    this.loadBalancer = new BrokerLoadBalancer(this, 'LoadBalancer', {
      vpc: this.network.vpc,
      certificateArn: props.certificateArn,
      plaintext: props.plaintext,
    });
    this.secrets = new ClusterSecrets(this, 'Secrets', {
      stackName: this.stackName,
      initialUser,
      passwordRemovalPolicy: props.removalPolicy,
    });
    if (props.certificateArn !== undefined && props.domainName === undefined) {
      Annotations.of(this.loadBalancer).addWarningV2('@robustmq/infra:tls-domain-name', DOMAIN_NAME_WARNING);
    }
    this.brokers = new BrokerService(this, 'Brokers', {
      network: this.network,
      data: this.data,
      loadBalancer: this.loadBalancer,
      advertisedHost: props.domainName,
      secrets: this.secrets,
      auth: auth === 'on',
      initialUser,
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
    this.outputs(props.domainName);
    acknowledgeFindings(this, { containerInsights: props.containerInsights ?? false });
  }

  private outputs(domainName: string | undefined): void {
    const lbDns = this.loadBalancer.loadBalancer.loadBalancerDnsName;
    const dns = domainName ?? lbDns;
    const { tls, plaintext } = this.loadBalancer;
    new CfnOutput(this, 'LoadBalancerDns', { value: lbDns, description: 'DNS name of the load balancer (the target of domainName)' });
    if (tls) {
      new CfnOutput(this, 'MqttTlsEndpoint', { value: `mqtts://${dns}:${TLS_PORTS.mqtt}`, description: 'MQTT over TLS' });
      new CfnOutput(this, 'WebSocketTlsEndpoint', { value: `wss://${dns}:${TLS_PORTS.wss}/mqtt`, description: 'MQTT over secure WebSocket' });
    }
    if (plaintext) {
      new CfnOutput(this, 'MqttEndpoint', { value: `mqtt://${dns}:${BROKER_PORTS.mqtt}`, description: 'MQTT over TCP (plaintext)' });
      new CfnOutput(this, 'WebSocketEndpoint', { value: `ws://${dns}:${BROKER_PORTS.ws}/mqtt`, description: 'MQTT over WebSocket (plaintext)' });
    }
    new CfnOutput(this, 'KafkaBootstrap', {
      value: `${dns}:${this.loadBalancer.kafkaPort}`,
      description: tls ? 'Kafka bootstrap server (TLS)' : 'Kafka bootstrap server (plaintext)',
    });
    this.secretOutputs();
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

  /** Where the credentials are: ARNs only, never a value, and the command that reads the initial password. */
  private secretOutputs(): void {
    const { clusterSecret, adminToken, initialUserPassword } = this.secrets;
    new CfnOutput(this, 'ClusterSecretArn', { value: clusterSecret.secretArn, description: 'Secret brokers authenticate each other with' });
    new CfnOutput(this, 'AdminTokenSecretArn', { value: adminToken.secretArn, description: 'Bearer token of the admin API (not exposed)' });
    const user = this.brokers.initialUser;
    if (initialUserPassword && user !== undefined) {
      new CfnOutput(this, 'InitialUser', { value: user, description: 'User created by the brokers at start' });
      new CfnOutput(this, 'InitialUserPasswordSecretArn', { value: initialUserPassword.secretArn, description: `Password of ${user}` });
      new CfnOutput(this, 'InitialUserPasswordCommand', {
        value: Fn.join(' ', [
          'aws secretsmanager get-secret-value --region',
          this.region,
          '--secret-id',
          initialUserPassword.secretArn,
          '--query SecretString --output text',
        ]),
        description: `Prints the password of ${user} (needs secretsmanager:GetSecretValue on it)`,
      });
    }
  }
}
