/**
 * The stack with every prop changed: an existing VPC, scale to zero, a bigger task, plaintext listeners without a
 * certificate, auth off, shorter retention, disposable data, Container Insights and no meta service. One
 * synthesis; props validation needs none.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envName } from '../../runtime/config/schema.js';
import { SCHEDULER_ENV } from '../../runtime/scheduler/names.js';
import { CONTEXT_KEYS, propsFromContext } from '../../infra/context.js';
import { SCHEDULER_DYNAMODB_ACTIONS } from '../../infra/scheduler-function.js';
import { RobustMQStack } from '../../infra/stack.js';
import { loadConfig } from '../../runtime/config/load.js';
import { concrete, describeFindings, envOf, logicalId, only, resources, secretsOf, synthesize, type Synthesized } from './synth.js';
const SUBNETS = ['subnet-0aaa1111', 'subnet-0bbb2222'];

let s: Synthesized;
beforeAll(() => {
  s = synthesize(() => {
    const shared = new Stack(new App(), 'Shared');
    const vpc = ec2.Vpc.fromVpcAttributes(shared, 'Existing', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      publicSubnetIds: SUBNETS,
      publicSubnetRouteTableIds: ['rtb-0aaa', 'rtb-0bbb'],
    });
    return {
      vpc,
      minBrokers: 0,
      maxBrokers: 8,
      brokerCpu: 512,
      brokerMemoryMiB: 1024,
      flushInterval: Duration.millis(100),
      plaintext: true,
      auth: 'off',
      retention: Duration.days(3),
      logRetention: logs.RetentionDays.ONE_WEEK,
      connectionsPerBroker: 2000,
      idleMinutes: 30,
      tablePrefix: 'mq-test',
      removalPolicy: RemovalPolicy.DESTROY,
      containerInsights: true,
      schedulerService: false,
    };
  });
});
afterAll(() => s?.cleanup());

const brokerContainer = () => only(resources(s.template, 'AWS::ECS::TaskDefinition'), 'task definition')[1].Properties.ContainerDefinitions[0];
const containerEnv = () => envOf(brokerContainer().Environment);

describe('an existing VPC', () => {
  it('is used as given: no VPC, subnet, endpoint or NAT gateway is created', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::NatGateway']) s.template.resourceCountIs(type, 0);
    const service = only(resources(s.template, 'AWS::ECS::Service'), 'service')[1].Properties;
    expect(service.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(SUBNETS);
    expect(service.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Subnets: SUBNETS });
  });
});

describe('plaintext without a certificate', () => {
  it('publishes TCP listeners 1883, 8083 and 9092, each forwarding to the same port, with no certificate', () => {
    const listeners = resources(s.template, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties);
    const groups = Object.fromEntries(resources(s.template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map(([id, g]) => [id, g.Properties.Port]));
    expect(listeners.map((l) => [l.Port, l.Protocol, groups[l.DefaultActions[0].TargetGroupArn.Ref]]).sort()).toEqual([
      [1883, 'TCP', 1883],
      [8083, 'TCP', 8083],
      [9092, 'TCP', 9092],
    ]);
    for (const l of listeners) expect(l.Certificates).toBeUndefined();
    const lb = s.template.toJSON().Resources[logicalId(s.stack, s.stack.loadBalancer.securityGroup)].Properties;
    expect(lb.SecurityGroupIngress.map((r: { FromPort: number }) => r.FromPort).sort()).toEqual([1883, 8083, 9092]);
    // Kafka clients are sent back to the port they dialled, the broker's own.
    expect(containerEnv()[envName('advertisedPort')]).toBeUndefined();
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.MqttEndpoint.Value)).toContain('":1883"');
    expect(JSON.stringify(outputs.WebSocketEndpoint.Value)).toContain('":8083/mqtt"');
    expect(JSON.stringify(outputs.KafkaBootstrap.Value)).toContain('":9092"');
    expect(Object.keys(outputs)).not.toContain('MqttTlsEndpoint');
    expect(Object.keys(outputs)).not.toContain('WebSocketTlsEndpoint');
  });
});

describe('auth off (the explicit opt-out)', () => {
  it('leaves ROBUSTMQ_AUTH unset, so brokers run without client authentication, and creates no initial user', () => {
    const env = containerEnv();
    expect(env[envName('auth')]).toBeUndefined();
    expect(env[envName('initialUser')]).toBeUndefined();
    expect(loadConfig({ env: concrete(env) }).auth).toBe('off');
    expect(s.stack.secrets.initialUserPassword).toBeUndefined();
    const outputs = Object.keys(s.template.toJSON().Outputs as object);
    for (const name of ['InitialUser', 'InitialUserPasswordSecretArn', 'InitialUserPasswordCommand']) expect(outputs).not.toContain(name);
  });

  it('still gives brokers the cluster secret (required by `robustmq broker`) and the admin token, as ECS secrets', () => {
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(secretsOf(brokerContainer().Secrets)).toEqual({
      [envName('clusterSecret')]: { Ref: logicalId(s.stack, s.stack.secrets.clusterSecret) },
      [envName('adminToken')]: { Ref: logicalId(s.stack, s.stack.secrets.adminToken) },
    });
  });
});

describe('sizes and timings', () => {
  it('scales between 0 and 8 brokers of 0.5 vCPU and 1 GB, starting at 0', () => {
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '512', Memory: '1024' });
    s.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 0 });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 8 });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 2000, CustomizedMetricSpecification: { MetricName: 'ConnectionsPerBroker' } },
    });
    const fn = s.template.toJSON().Resources[logicalId(s.stack, s.stack.scheduler.function)].Properties;
    const env = fn.Environment.Variables as Record<string, string>;
    expect([env[SCHEDULER_ENV.minBrokers], env[SCHEDULER_ENV.maxBrokers], env[SCHEDULER_ENV.idleMinutes]]).toEqual(['0', '8', '30']);
    expect(env[envName('dynamodbTablePrefix')]).toBe('mq-test');
  });

  it('passes flush interval and retention to the brokers and the bucket lifecycle', () => {
    const env = containerEnv();
    expect(env[envName('s3FlushMs')]).toBe('100');
    expect(env[envName('retentionMs')]).toBe(String(3 * 86_400_000));
    expect(env[envName('dynamodbTablePrefix')]).toBe('mq-test');
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ Id: 'retention', ExpirationInDays: 4, Status: 'Enabled' }, { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
    });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'mq-test-meta' });
    for (const [, g] of resources(s.template, 'AWS::Logs::LogGroup')) expect(g.Properties.RetentionInDays).toBe(7);
  });
});

describe('disposable data and insights', () => {
  it('deletes the table, the emptied bucket and every secret with the stack', () => {
    s.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    for (const [, secret] of resources(s.template, 'AWS::SecretsManager::Secret')) expect(secret.DeletionPolicy).toBe('Delete');
    s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  it('enables Container Insights', () => {
    s.template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('still passes the cdk-nag AwsSolutions checks', () => {
    expect(describeFindings(s.nag)).toEqual([]);
  });
});

describe('without the meta service', () => {
  it('runs only the broker service and task, and leaves leadership to the scheduler function', () => {
    expect(s.stack.metaService).toBeUndefined();
    s.template.resourceCountIs('AWS::ECS::Service', 1);
    s.template.resourceCountIs('AWS::ECS::TaskDefinition', 1);
    const task = only(resources(s.template, 'AWS::ECS::TaskDefinition'), 'task definition')[1].Properties;
    expect(task.ContainerDefinitions.map((c: { Command: string[] }) => c.Command)).toEqual([['broker']]);
    expect(Object.keys(s.template.toJSON().Outputs)).not.toContain('MetaServiceName');
    // The function's role still carries the leadership writes: it is then the only scheduler.
    const roleId = logicalId(s.stack, s.stack.scheduler.function.role as never);
    const actions = resources(s.template, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
      .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    expect(actions).toEqual(expect.arrayContaining(SCHEDULER_DYNAMODB_ACTIONS));
    expect(actions).toContain('dynamodb:UpdateItem');
  });
});

describe('context', () => {
  const appWith = (context: Record<string, unknown>) => new App({ context });

  it('reads schedulerService as a boolean, and refuses anything else', () => {
    expect(CONTEXT_KEYS).toContain('schedulerService');
    expect(propsFromContext(appWith({})).props.schedulerService).toBeUndefined();
    expect(propsFromContext(appWith({ schedulerService: 'false' })).props.schedulerService).toBe(false);
    expect(propsFromContext(appWith({ schedulerService: true })).props.schedulerService).toBe(true);
    expect(() => propsFromContext(appWith({ schedulerService: 'no' }))).toThrow(/schedulerService must be true or false/);
  });
});

describe('props validation', () => {
  const stack = (props: ConstructorParameters<typeof RobustMQStack>[2]) => () => new RobustMQStack(new App(), 'Bad', { plaintext: true, ...props });

  it('rejects a broker range that cannot hold', () => {
    expect(stack({ minBrokers: -1 })).toThrow(/minBrokers/);
    expect(stack({ minBrokers: 1.5 })).toThrow(/minBrokers/);
    expect(stack({ minBrokers: 3, maxBrokers: 2 })).toThrow(/maxBrokers/);
    expect(stack({ minBrokers: 0, maxBrokers: 0 })).toThrow(/maxBrokers/);
  });

  it('rejects an initial user the broker could not create, or one that could never log in', () => {
    expect(stack({ initialUser: 'has space' })).toThrow(/initialUser must be 1-128 characters/);
    expect(stack({ initialUser: '*' })).toThrow(/initialUser must be/);
    expect(stack({ auth: 'off', initialUser: 'admin' })).toThrow(/initialUser needs auth on/);
    expect(stack({ auth: 'maybe' as never })).toThrow(/auth must be on or off/);
  });
});
