/**
 * The recommended deployment (a certificate, every other prop at its default), asserted property by property on
 * one synthesis. Secrets and the other listener choices are in security.test.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstIPv4 } from '../../runtime/cluster/identity.js';
import { planCluster } from '../../runtime/cluster/compose.js';
import { CONFIG_KEYS, loadConfig } from '../../runtime/config/load.js';
import { envName } from '../../runtime/config/schema.js';
import { createLogger } from '../../runtime/logger.js';
import { metaTableName } from '../../runtime/meta/dynamodb/store.js';
import { CONNECTIONS_METRIC, SCHEDULER_ENV } from '../../runtime/scheduler/names.js';
import { readSchedulerSettings } from '../../runtime/scheduler/settings.js';
import { INTERNAL_PORTS } from '../../infra/ports.js';
import { SECRET_LENGTHS } from '../../infra/secrets.js';
import {
  CERT,
  describeFindings,
  LEADERSHIP_WRITES,
  list,
  logicalId,
  only,
  resources,
  statementsOf as allStatementsOf,
  concrete,
  envOf,
  sampleSecret,
  secretsOf,
  synthesize,
  type Synthesized,
} from './synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
});
afterAll(() => s?.cleanup());

/** A resource of the template by its construct, e.g. `s.stack.brokers.service`. */
const props = (construct: { node: { defaultChild?: unknown } }) => s.template.toJSON().Resources[logicalId(s.stack, construct)].Properties;
const container = () => only(props(s.stack.brokers.taskDefinition).ContainerDefinitions as any[], 'broker container');
const silent = createLogger('silent', { pretty: false });
describe('network', () => {
  it('has public subnets only, no NAT gateway, and S3 and DynamoDB gateway endpoints', () => {
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::EIP', 0);
    const subnets = resources(s.template, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(2);
    for (const [, subnet] of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(true);
    const endpoints = resources(s.template, 'AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties);
    expect(endpoints).toHaveLength(2);
    for (const e of endpoints) expect(e.VpcEndpointType).toBe('Gateway');
    const services = endpoints.map((e) => JSON.stringify(e.ServiceName));
    expect(services.some((n) => n.includes('.s3'))).toBe(true);
    expect(services.some((n) => n.includes('.dynamodb'))).toBe(true);
  });
});

describe('broker task and service', () => {
  it('runs ARM64 Fargate tasks of 0.25 vCPU and 0.5 GB with `robustmq broker`', () => {
    expect(props(s.stack.brokers.taskDefinition)).toMatchObject({
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '256',
      Memory: '512',
      NetworkMode: 'awsvpc',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    const c = container();
    // Not `start`: standalone nodes sharing the bucket would all be broker "standalone" and fence each other.
    expect(c.Command).toEqual(['broker']);
    expect(c.PortMappings.map((p: { ContainerPort: number }) => p.ContainerPort).sort()).toEqual([1883, 8080, 8083, 9092, 9094, 9095]);
    expect(c.HealthCheck.Command.join(' ')).toContain('/healthz');
    expect(c.StopTimeout).toBe(30);
    expect(c.LogConfiguration.LogDriver).toBe('awslogs');
  });

  it('configures brokers for S3 storage and DynamoDB metadata, advertising the load balancer to Kafka clients', () => {
    const env = envOf(container().Environment);
    expect(env[envName('storage')]).toBe('s3');
    expect(env[envName('meta')]).toBe('dynamodb');
    expect(env[envName('createTables')]).toBe('false');
    expect(env[envName('s3Bucket')]).toEqual({ Ref: logicalId(s.stack, s.stack.data.bucket) });
    expect(env[envName('dynamodbTablePrefix')]).toBe('robustmq');
    expect(env[envName('advertisedHost')]).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.loadBalancer.loadBalancer), 'DNSName'] });
    expect(env[envName('s3FlushMs')]).toBe('250');
    expect(env[envName('retentionMs')]).toBe(String(7 * 86_400_000));
    expect(env[envName('internalPort')]).toBe('9094');
    expect(env[envName('mqttInternalPort')]).toBe('9095');
    // The task's address is known only when it runs: the broker takes its interface's IPv4 (docs/deploy.md).
    expect(env[envName('internalHost')]).toBeUndefined();
    expect(env[envName('brokerId')]).toBeUndefined();
    // Secure by default: clients log in, and the first user exists once a broker has started.
    expect(env[envName('auth')]).toBe('on');
    expect(env[envName('initialUser')]).toBe('admin');
    // Behind the TLS listener, Kafka clients are sent back to 9093, not to the broker's plain port.
    expect(env[envName('advertisedPort')]).toBe('9093');
  });

  it('sets only real config keys, with values the broker accepts (secrets at their generated length)', () => {
    const env = concrete(envOf(container().Environment));
    const secrets = secretsOf(container().Secrets);
    const lengths: Record<string, number> = {
      [envName('clusterSecret')]: SECRET_LENGTHS.clusterSecret,
      [envName('adminToken')]: SECRET_LENGTHS.adminToken,
      [envName('initialUserPassword')]: SECRET_LENGTHS.initialUserPassword,
    };
    expect(Object.keys(secrets).sort()).toEqual(Object.keys(lengths).sort());
    const known = new Set(CONFIG_KEYS.map((k) => envName(k)));
    for (const name of [...Object.keys(env), ...Object.keys(secrets)]) expect(known, `${name} is not a config key`).toContain(name);
    // What the container sees once ECS has resolved the secrets: values of the generated alphabet and length.
    const config = loadConfig({ env: { ...env, ...Object.fromEntries(Object.entries(lengths).map(([k, n]) => [k, sampleSecret(n)])) } });
    expect(config.storage).toBe('s3');
    expect(config.meta).toBe('dynamodb');
    expect(config.advertisedHost).toBe('robustmq-nlb-0123.elb.eu-west-1.amazonaws.com');
    expect(config.advertisedPort).toBe(9093);
    expect(config.auth).toBe('on');
    expect(config).toMatchObject({ initialUser: 'admin', clusterSecret: sampleSecret(48), adminToken: sampleSecret(40) });
    // What `robustmq broker` makes of it: a fresh id per task, Kafka clients sent back to the load balancer.
    const plan = planCluster(config, silent, () => undefined);
    expect(plan.identity).toMatchObject({ advertise: 'single', internalHost: firstIPv4() });
    expect(plan.identity.brokerId).not.toBe(planCluster(config, silent, () => undefined).identity.brokerId);
  });

  it('keeps minBrokers running behind the load balancer, rolling back failed deployments', () => {
    const p = props(s.stack.brokers.service);
    expect(p.LaunchType).toBe('FARGATE');
    expect(p.DesiredCount).toBe(1);
    expect(p.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    expect(p.DeploymentConfiguration).toMatchObject({
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
    });
    expect(p.LoadBalancers.map((l: { ContainerPort: number }) => l.ContainerPort).sort()).toEqual([1883, 8083, 9092]);
    expect(p.HealthCheckGracePeriodSeconds).toBe(60);
  });

  it('lets only the load balancer reach the client and health check ports, and only brokers the internal ports', () => {
    const lbGroup = { 'Fn::GetAtt': [logicalId(s.stack, s.stack.loadBalancer.securityGroup), 'GroupId'] };
    const brokerGroupConstruct = s.stack.brokers.service.connections.securityGroups[0]!;
    const brokerGroup = { 'Fn::GetAtt': [logicalId(s.stack, brokerGroupConstruct), 'GroupId'] };
    const ingress = resources(s.template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    // Broker to broker: Kafka forwarding and MQTT messages, the CLI's --internal-port and --mqtt-internal-port.
    expect(INTERNAL_PORTS).toEqual({ internalPort: 9094, mqttInternalPort: 9095 });
    expect(ingress.map((r) => r.FromPort).sort()).toEqual([1883, 8080, 8083, 9092, 9094, 9095]);
    for (const rule of ingress) {
      expect(rule.GroupId).toEqual(brokerGroup);
      expect(rule.IpProtocol).toBe('tcp');
      expect(rule.ToPort).toBe(rule.FromPort);
      expect(rule.SourceSecurityGroupId).toEqual(rule.FromPort >= 9094 ? brokerGroup : lbGroup);
      expect(rule.CidrIp).toBeUndefined();
    }
    expect(props(brokerGroupConstruct).SecurityGroupIngress).toBeUndefined();
    // Clients reach the TLS listeners only; the load balancer forwards to the brokers' plain ports.
    const lb = props(s.stack.loadBalancer.securityGroup);
    expect(lb.SecurityGroupIngress.map((r: { FromPort: number }) => r.FromPort).sort()).toEqual([8084, 8883, 9093]);
  });
});

describe('load balancer', () => {
  it('is an internet-facing NLB with TLS listeners 8883, 8084 and 9093 only, forwarding to the plain MQTT, WebSocket and Kafka ports', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internet-facing' });
    const groups = Object.fromEntries(resources(s.template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([id, g]) => [id, g.Properties]));
    const listeners = resources(s.template, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties);
    expect(listeners.map((l) => [l.Port, l.Protocol, groups[l.DefaultActions[0].TargetGroupArn.Ref].Port]).sort()).toEqual([
      [8084, 'TLS', 8083],
      [8883, 'TLS', 1883],
      [9093, 'TLS', 9092],
    ]);
    for (const l of listeners) {
      expect(l.Certificates).toEqual([{ CertificateArn: CERT }]);
      expect(l.SslPolicy).toMatch(/^ELBSecurityPolicy-TLS13/);
    }
  });

  it('checks targets on GET /healthz of the admin port, drains them on scale-in, and passes on client addresses', () => {
    const groups = resources(s.template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([, g]) => g.Properties);
    expect(groups).toHaveLength(3);
    for (const g of groups) {
      expect(g).toMatchObject({
        Protocol: 'TCP',
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '8080',
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200' },
      });
      const attrs = Object.fromEntries(g.TargetGroupAttributes.map((a: { Key: string; Value: string }) => [a.Key, a.Value]));
      expect(attrs['deregistration_delay.timeout_seconds']).toBe('30');
      expect(attrs['deregistration_delay.connection_termination.enabled']).toBe('true');
      // Per-address limits and the login-flood guard need the client's address, not the load balancer's.
      expect(attrs['preserve_client_ip.enabled']).toBe('true');
    }
  });
});

describe('storage and metadata', () => {
  it('keeps records in an encrypted, private, SSL-only bucket with a retention lifecycle', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'retention', ExpirationInDays: 8, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates the meta table the DynamoDB MetaStore expects: on demand, point-in-time recovery, TTL on `ttl`', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: metaTableName('robustmq'),
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'ns', KeyType: 'HASH' },
        { AttributeName: 'key', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'ns', AttributeType: 'S' },
        { AttributeName: 'key', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      ProvisionedThroughput: Match.absent(),
    });
  });
});

describe('IAM', () => {
  const statementsOf = (role: { node: { defaultChild?: unknown } }, owner: string) => {
    const statements = allStatementsOf(s, role);
    expect(statements.length, `${owner} has a policy`).toBeGreaterThan(0);
    return statements;
  };

  it('lets the task role reach its bucket and table only', () => {
    const statements = statementsOf(s.stack.brokers.taskDefinition.taskRole, 'task role');
    const bucket = logicalId(s.stack, s.stack.data.bucket);
    const table = logicalId(s.stack, s.stack.data.metaTable);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      for (const action of list(st.Action)) expect(String(action)).toMatch(/^(s3|dynamodb):[A-Za-z]+$/);
      for (const resource of list(st.Resource)) {
        const json = JSON.stringify(resource);
        expect(json === JSON.stringify({ 'Fn::GetAtt': [bucket, 'Arn'] }) || json.includes(`"${bucket}"`) || json.includes(`"${table}"`), json).toBe(true);
        expect(resource).not.toBe('*');
      }
    }
    const objects = statements.find((st) => list(st.Action).includes('s3:PutObject'))!;
    expect(JSON.stringify(objects.Resource)).toContain('/*');
    const items = statements.find((st) => list(st.Action).includes('dynamodb:PutItem'))!;
    expect(items.Resource).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
    expect(statements.flatMap((st) => list(st.Action))).not.toContain('dynamodb:CreateTable');
  });

  it("lets the scheduler read and write the table's items, describe and update its service, and use CloudWatch metrics in RobustMQ's namespace", () => {
    const statements = statementsOf(s.stack.scheduler.function.role as never, 'scheduler role');
    const ecs = statements.find((st) => list(st.Action).includes('ecs:UpdateService'))!;
    expect(ecs.Resource).toEqual({ Ref: logicalId(s.stack, s.stack.brokers.service) });
    const dynamo = statements.filter((st) => list(st.Action).some((a) => String(a).startsWith('dynamodb:')));
    for (const st of dynamo) expect(st.Resource).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.data.metaTable), 'Arn'] });
    const actions = dynamo.flatMap((st) => list(st.Action));
    expect(actions).toEqual(expect.arrayContaining([...LEADERSHIP_WRITES, 'dynamodb:Query', 'dynamodb:GetItem']));
    for (const never of ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTimeToLive']) expect(actions).not.toContain(never);
    const put = statements.find((st) => list(st.Action).includes('cloudwatch:PutMetricData'))!;
    expect(put.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': CONNECTIONS_METRIC.namespace } });
    for (const st of statements.filter((x) => x.Resource === '*')) {
      expect(list(st.Action).every((a) => String(a).startsWith('cloudwatch:'))).toBe(true);
    }
  });

  it('grants no wildcard action anywhere', () => {
    for (const [, policy] of resources(s.template, 'AWS::IAM::Policy')) {
      for (const st of policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>) {
        for (const action of list(st.Action)) expect(String(action)).not.toMatch(/\*$/);
      }
    }
  });
});

describe('scaling', () => {
  it('tracks CPU and the connections-per-broker metric between min and max brokers', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 4,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      },
    });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        CustomizedMetricSpecification: {
          Namespace: CONNECTIONS_METRIC.namespace,
          MetricName: CONNECTIONS_METRIC.name,
          Dimensions: [{ Name: CONNECTIONS_METRIC.dimension, Value: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.brokers.service), 'Name'] } }],
          Statistic: 'Average',
        },
        TargetValue: 5000,
      },
    });
  });

  it('runs the scheduler on Node 24, ARM64, every minute, configured for this service', () => {
    const fnId = logicalId(s.stack, s.stack.scheduler.function);
    const fn = s.template.toJSON().Resources[fnId].Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 50 });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    const env = fn.Environment.Variables as Record<string, unknown>;
    expect(env[SCHEDULER_ENV.minBrokers]).toBe('1');
    expect(env[SCHEDULER_ENV.maxBrokers]).toBe('4');
    expect(env[SCHEDULER_ENV.service]).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.brokers.service), 'Name'] });
    expect(env[SCHEDULER_ENV.loadBalancer]).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.loadBalancer.loadBalancer), 'LoadBalancerFullName'] });
    const settings = readSchedulerSettings(concrete(env));
    expect(settings.meta).toEqual({ tablePrefix: 'robustmq', region: 'eu-west-1' });
    expect(settings.policy).toEqual({ minBrokers: 1, maxBrokers: 4, connectionsPerBroker: 5000, idleAfterMs: 15 * 60_000 });
  });
});

describe('operations', () => {
  it('keeps logs for a month', () => {
    const groups = resources(s.template, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(2);
    for (const [, g] of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it('outputs the TLS client endpoints on the load balancer, and no plaintext one', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const [name, endpoint] of [
      ['MqttTlsEndpoint', ['mqtts://', ':8883']],
      ['WebSocketTlsEndpoint', ['wss://', ':8084/mqtt']],
      ['KafkaBootstrap', ['', ':9093']],
    ] as const) {
      const value = JSON.stringify(outputs[name].Value);
      expect(value).toContain('DNSName');
      expect(value).toContain(`"${endpoint[0]}"`);
      expect(value).toContain(`"${endpoint[1]}"`);
    }
    expect(Object.keys(outputs)).not.toContain('MqttEndpoint');
    expect(Object.keys(outputs)).not.toContain('WebSocketEndpoint');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['BucketName', 'MetaTableName', 'ServiceName', 'MetaServiceName', 'SchedulerFunctionName']));
  });

  it('passes the cdk-nag AwsSolutions checks, every exception acknowledged with a reason', () => {
    expect(describeFindings(s.nag)).toEqual([]);
    const acknowledged = s.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.values(m.data as Record<string, { reason?: string }>));
    expect(acknowledged.length).toBeGreaterThan(5);
    for (const entry of acknowledged) expect(String(entry.reason ?? entry).length).toBeGreaterThan(40);
  });

  it('has a nag check that does report an unacknowledged finding', () => {
    const stack = new Stack(new App(), 'Probe');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
    new ec2.SecurityGroup(stack, 'Open', { vpc }).addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    const rules = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(rules.some((r) => r.includes('EC23'))).toBe(true);
  });
});
