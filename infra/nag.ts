/**
 * The cdk-nag AwsSolutions findings this design accepts, each on the narrowest construct and with its reason.
 * The checks run on every `cdk synth` (infra/app.ts) and in test/infra; any finding not acknowledged here
 * fails both.
 */
import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RobustMQStack } from './stack.js';

const ack = (scope: IConstruct, rule: string, reason: string): void =>
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });

export function acknowledgeFindings(stack: RobustMQStack, options: { readonly containerInsights: boolean }): void {
  const { network, data, loadBalancer, brokers, scheduler, metaService, secrets } = stack;
  const vpc = network.vpc.node.tryFindChild('Resource') ? network.vpc : undefined;
  if (vpc) {
    ack(vpc, 'VPC7', 'Flow logs are billed per GB and the VPC holds only the brokers, whose one inbound path is the load balancer security group; add flow logs when network auditing is required.');
  }
  ack(data.bucket, 'S1', 'The bucket holds only record objects written by the brokers many times a second; access logs would add a second bucket and a log object per batch of requests. CloudTrail data events can be enabled instead when auditing is required.');
  ack(loadBalancer.securityGroup, 'EC23', 'The load balancer is the public MQTT/Kafka endpoint: clients connect from anywhere on the listener ports only. The admin port is not exposed.');
  ack(loadBalancer.loadBalancer, 'ELB2', 'NLB access logs cover TLS listeners only and need a log bucket; brokers log each client connection with its address.');
  if (!options.containerInsights) {
    ack(brokers.cluster, 'ECS4', 'Container Insights is billed per metric and off by default (prop containerInsights); brokers serve Prometheus metrics and the scheduler publishes connections per broker.');
  }
  ack(brokers.taskDefinition, 'ECS2', 'The environment carries configuration only (bucket and table names, region, load balancer DNS name, timings, auth mode, initial user name); the cluster secret, admin token and password are ECS secrets from Secrets Manager.');
  ack(
    secrets.clusterSecret,
    'SMG4',
    'Brokers holding different cluster secrets cannot talk to each other, so rotating it means giving every broker the new value in one coordinated restart, which the stack does not orchestrate; rotate by hand (docs/deploy.md) by putting a new value and forcing a new deployment of the broker service.',
  );
  ack(
    secrets.adminToken,
    'SMG4',
    'The admin API is not reachable from outside the VPC (only the load balancer health check reaches /healthz) and brokers read the token once at start; a rotation would need a new deployment of the service, which the stack does not orchestrate.',
  );
  if (secrets.initialUserPassword) {
    ack(
      secrets.initialUserPassword,
      'SMG4',
      "Used once, to create the initial user when it is missing; the user then lives in the meta table and the operator changes the password with `robustmq user delete` and `user add` (a rotation function would change the secret but not the credentials stored with the user).",
    );
  }
  const bucketId = stack.resolve((data.bucket.node.defaultChild as CfnElement).logicalId) as string;
  ack(
    brokers.taskDefinition.taskRole,
    `IAM5[Resource::<${bucketId}.Arn>/*]`,
    "Object actions (get, put, delete, abort upload) on this stack's bucket's objects only; object keys are created at run time.",
  );
  if (brokers.taskDefinition.executionRole) {
    ack(brokers.taskDefinition.executionRole, 'IAM5[Resource::*]', 'ecr:GetAuthorizationToken has no resource-level permissions (AWS-generated execution role policy).');
  }
  if (metaService) {
    ack(metaService.taskDefinition, 'ECS2', 'The environment carries configuration only (table prefix, region, timings), no secrets.');
    if (metaService.taskDefinition.executionRole) {
      ack(metaService.taskDefinition.executionRole, 'IAM5[Resource::*]', 'ecr:GetAuthorizationToken has no resource-level permissions (AWS-generated execution role policy).');
    }
  }
  ack(
    scheduler.function.role ?? scheduler.function,
    'IAM5[Resource::*]',
    'cloudwatch:GetMetricData and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the RobustMQ namespace by condition.',
  );
}
