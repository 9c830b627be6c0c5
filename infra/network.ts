/**
 * The network brokers run in. A new VPC has public subnets only, so there is no NAT gateway to pay for by the
 * hour: brokers get public IPs (inbound is closed to all but the load balancer), and S3 and DynamoDB traffic goes
 * through free gateway endpoints instead of the internet.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * An existing VPC to use instead of creating one. Nothing is added to it (no endpoints).
   * @default a new VPC: public subnets in two availability zones, no NAT gateway, S3 and DynamoDB gateway endpoints
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the broker tasks. Tasks in public subnets get a public IP (to pull images and reach AWS APIs
   * without a NAT gateway).
   * @default the public subnets
   */
  readonly brokerSubnets?: ec2.SubnetSelection;
  /**
   * Availability zones of a new VPC.
   * @default 2
   */
  readonly maxAzs?: number;
}

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly brokerSubnets: ec2.SubnetSelection;
  /** Whether broker tasks need a public IP: their subnets are public. */
  readonly assignPublicIp: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    this.vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
        gatewayEndpoints: {
          S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
          DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        },
      });
    this.brokerSubnets = props.brokerSubnets ?? { subnetType: ec2.SubnetType.PUBLIC };
    this.assignPublicIp = this.vpc.selectSubnets(this.brokerSubnets).hasPublic;
  }
}
