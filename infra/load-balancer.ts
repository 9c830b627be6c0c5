/**
 * One network load balancer in front of every broker. With a certificate, TLS listeners terminate MQTT (8883),
 * MQTT over secure WebSocket (8084) and Kafka (9093) and forward to the brokers' plain ports; plaintext listeners
 * for MQTT (1883) and MQTT over WebSocket (8083) are added only when asked for (`plaintext`), and plaintext Kafka
 * (9092) only without a certificate, because a broker advertises one Kafka port and a client following Metadata
 * must find the protocol it dialled. Targets are checked on GET /healthz of the admin port, which is not exposed to
 * clients. On scale-in a target is drained for `drainTime`, then its remaining connections are closed so clients
 * reconnect elsewhere.
 */
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { BROKER_PORTS, TLS_PORTS } from './ports.js';

export interface BrokerLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** ACM certificate of the TLS listeners (8883, 8084, 9093). @default no TLS listeners: `plaintext` must be true */
  readonly certificateArn?: string;
  /**
   * Plaintext listeners: MQTT 1883 and MQTT over WebSocket 8083, and Kafka 9092 when there is no certificate.
   * Passwords then cross the internet unencrypted.
   * @default false
   */
  readonly plaintext?: boolean;
  /** Time a deregistered broker keeps its connections. @default Duration.seconds(30) */
  readonly drainTime?: Duration;
}

export interface Route {
  readonly listenerPort: number;
  readonly targetPort: number;
  readonly tls: boolean;
}

/** The listeners of a load balancer with or without a certificate and plaintext; at least one must be asked for. */
export function routesFor(tls: boolean, plaintext: boolean): Route[] {
  if (!tls && !plaintext) throw new Error('BrokerLoadBalancer: give a certificateArn, plaintext: true, or both');
  const routes: Route[] = [];
  if (plaintext) {
    routes.push({ listenerPort: BROKER_PORTS.mqtt, targetPort: BROKER_PORTS.mqtt, tls: false });
    routes.push({ listenerPort: BROKER_PORTS.ws, targetPort: BROKER_PORTS.ws, tls: false });
    if (!tls) routes.push({ listenerPort: BROKER_PORTS.kafka, targetPort: BROKER_PORTS.kafka, tls: false });
  }
  if (tls) {
    routes.push({ listenerPort: TLS_PORTS.mqtt, targetPort: BROKER_PORTS.mqtt, tls: true });
    routes.push({ listenerPort: TLS_PORTS.wss, targetPort: BROKER_PORTS.ws, tls: true });
    routes.push({ listenerPort: TLS_PORTS.kafka, targetPort: BROKER_PORTS.kafka, tls: true });
  }
  return routes;
}

export class BrokerLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  /** Target groups by container port. */
  readonly targetGroups = new Map<number, elbv2.NetworkTargetGroup>();
  readonly routes: readonly Route[];
  /** The Kafka port clients connect to and brokers advertise. */
  readonly kafkaPort: number;
  /** Whether the TLS listeners exist (a certificate was given). */
  readonly tls: boolean;
  /** Whether plaintext client listeners exist. */
  readonly plaintext: boolean;

  constructor(scope: Construct, id: string, props: BrokerLoadBalancerProps) {
    super(scope, id);
    this.tls = props.certificateArn !== undefined;
    this.plaintext = props.plaintext ?? false;
    this.routes = routesFor(this.tls, this.plaintext);
    this.kafkaPort = this.tls ? TLS_PORTS.kafka : BROKER_PORTS.kafka;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'RobustMQ load balancer: client listeners from anywhere',
      allowAllOutbound: false,
    });
    for (const route of this.routes) {
      this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(route.listenerPort), `clients on ${route.listenerPort}`);
    }
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc: props.vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [this.securityGroup],
    });

    const certificates = props.certificateArn !== undefined ? [elbv2.ListenerCertificate.fromArn(props.certificateArn)] : undefined;
    for (const route of this.routes) {
      const targetGroup = this.targetGroup(props, route.targetPort);
      this.loadBalancer.addListener(`Listener${route.listenerPort}`, {
        port: route.listenerPort,
        protocol: route.tls ? elbv2.Protocol.TLS : elbv2.Protocol.TCP,
        certificates: route.tls ? certificates : undefined,
        sslPolicy: route.tls ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
        defaultTargetGroups: [targetGroup],
      });
    }
  }

  private targetGroup(props: BrokerLoadBalancerProps, port: number): elbv2.NetworkTargetGroup {
    const existing = this.targetGroups.get(port);
    if (existing) return existing;
    const group = new elbv2.NetworkTargetGroup(this, `Target${port}`, {
      vpc: props.vpc,
      port,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: props.drainTime ?? Duration.seconds(30),
      connectionTermination: true,
      // Brokers see each client's own address (IP targets would otherwise see the load balancer's): the per-address
      // connection limit and the login-flood guard count clients, not load balancer nodes. The task security group
      // still admits only the load balancer's security group, which the NLB applies to this traffic too.
      preserveClientIp: true,
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        port: String(BROKER_PORTS.admin),
        path: '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    this.targetGroups.set(port, group);
    return group;
  }

  /** Registers the service's tasks in every target group and opens the task security group to the load balancer. */
  attach(service: ecs.FargateService, containerName: string): void {
    for (const [port, group] of this.targetGroups) {
      group.addTarget(service.loadBalancerTarget({ containerName, containerPort: port }));
    }
    const ports = [...this.targetGroups.keys(), BROKER_PORTS.admin];
    for (const port of ports) {
      service.connections.allowFrom(this.securityGroup, ec2.Port.tcp(port), `load balancer to brokers on ${port}`);
    }
  }
}
