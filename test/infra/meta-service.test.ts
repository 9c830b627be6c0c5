/**
 * The meta service of the default stack (`schedulerService` true): one `robustmq meta` task that reassigns the
 * partitions of dead brokers within seconds, asserted property by property on one synthesis. The stack without it
 * is in stack-options.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTHCHECK_SCRIPT } from '../../infra/ports.js';
import { CONFIG_KEYS, loadConfig } from '../../runtime/config/load.js';
import { envName } from '../../runtime/config/schema.js';
import {
  concrete,
  envOf,
  LEADERSHIP_WRITES,
  list,
  logicalId,
  only,
  resources,
  SECRET_ISH_NAME,
  statementsOf,
  synthesize,
  type Synthesized,
} from './synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
});
afterAll(() => s?.cleanup());

const props = (construct: { node: { defaultChild?: unknown } }) => s.template.toJSON().Resources[logicalId(s.stack, construct)].Properties;
const container = () => only(props(s.stack.brokers.taskDefinition).ContainerDefinitions as any[], 'broker container');
const metaContainer = () => only(props(s.stack.metaService!.taskDefinition).ContainerDefinitions as any[], 'meta container');

describe('meta service', () => {
  const meta = () => s.stack.metaService!;

  it("runs one `robustmq meta` task of 0.25 vCPU and 0.5 GB (ARM64) in the brokers' cluster, outside the load balancer", () => {
    expect(props(meta().taskDefinition)).toMatchObject({
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '256',
      Memory: '512',
      NetworkMode: 'awsvpc',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    const c = metaContainer();
    expect(c.Command).toEqual(['meta']);
    expect(c.Image).toEqual(container().Image);
    expect(c.HealthCheck.Command).toEqual(['CMD', 'node', '-e', HEALTHCHECK_SCRIPT]);
    expect(c.PortMappings).toBeUndefined();
    expect(c.LogConfiguration.Options['awslogs-stream-prefix']).toBe('meta');
    const p = props(meta().service);
    expect(p).toMatchObject({
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      Cluster: { Ref: logicalId(s.stack, s.stack.brokers.cluster) },
      DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
    });
    expect(p.LoadBalancers).toBeUndefined();
    // Only the brokers scale; the meta service is always exactly one task.
    const [, target] = only(resources(s.template, 'AWS::ApplicationAutoScaling::ScalableTarget'), 'scalable target');
    const scaled = JSON.stringify(target.Properties.ResourceId);
    expect(scaled).toContain(logicalId(s.stack, s.stack.brokers.service));
    expect(scaled).not.toContain(logicalId(s.stack, meta().service));
  });

  it('accepts no inbound connection at all', () => {
    const group = meta().service.connections.securityGroups[0]!;
    const id = { 'Fn::GetAtt': [logicalId(s.stack, group), 'GroupId'] };
    expect(props(group).SecurityGroupIngress).toBeUndefined();
    const rules = resources(s.template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(rules.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(id))).toEqual([]);
    expect(rules.filter((r) => JSON.stringify(r.SourceSecurityGroupId) === JSON.stringify(id))).toEqual([]);
  });

  it("is configured for the stack's table only, with values `robustmq meta` accepts", () => {
    const env = concrete(envOf(metaContainer().Environment));
    const known = new Set(CONFIG_KEYS.map((k) => envName(k)));
    for (const name of Object.keys(env)) expect(known, `${name} is not a config key`).toContain(name);
    const config = loadConfig({ env });
    expect(config).toMatchObject({ meta: 'dynamodb', dynamodbTablePrefix: 'robustmq', dynamodbRegion: 'eu-west-1', createTables: false });
    expect(config.s3Bucket).toBeUndefined();
    expect(config.shutdownTimeoutMs).toBeLessThan(metaContainer().StopTimeout * 1000);
  });

  it('gets none of the cluster secrets, which `robustmq meta` does not use, and no access to them', () => {
    const c = metaContainer();
    expect(c.Secrets).toBeUndefined();
    for (const v of c.Environment as Array<{ Name: string }>) expect(v.Name).not.toMatch(SECRET_ISH_NAME);
    const roles = [meta().taskDefinition.taskRole, meta().taskDefinition.executionRole!];
    const actions = roles.flatMap((role) => statementsOf(s, role)).flatMap((st) => list(st.Action));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(String(action)).not.toMatch(/^secretsmanager:/);
  });

  it("lets its task read and write the table's items and nothing else", () => {
    const statements = statementsOf(s, meta().taskDefinition.taskRole);
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, s.stack.data.metaTable), 'Arn'] });
      for (const action of list(st.Action)) expect(String(action)).toMatch(/^dynamodb:[A-Za-z]+$/);
    }
    const actions = statements.flatMap((st) => list(st.Action));
    expect(actions).toEqual(expect.arrayContaining([...LEADERSHIP_WRITES, 'dynamodb:Query', 'dynamodb:GetItem']));
    for (const never of ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTimeToLive']) expect(actions).not.toContain(never);
  });

  it('is named in the stack outputs', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.MetaServiceName.Value).toEqual({ 'Fn::GetAtt': [logicalId(s.stack, meta().service), 'Name'] });
  });
});
