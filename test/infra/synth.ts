/**
 * One synthesis of a RobustMQ stack for a test file: the feature flags of cdk.json, asset bundling skipped (the
 * scheduler bundle is exercised in test/unit/scheduler-lambda.test.ts), a temporary cloud assembly directory,
 * and the cdk-nag AwsSolutions report of the stack. Every synthesis names its listeners (a certificate or
 * `plaintext: true`), as `cdk synth` requires.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Names, Stack, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from '../../infra/broker-service.js';
import { RobustMQStack, type RobustMQStackProps } from '../../infra/stack.js';

/** An ACM certificate ARN of the shape ACM returns; synth never looks it up. */
export const CERT = 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666';

export interface Synthesized {
  readonly stack: RobustMQStack;
  readonly template: Template;
  readonly nag: PolicyValidationPluginReport;
  cleanup(): void;
}

export function testApp(): { app: App; outdir: string } {
  const flags = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'robustmq-cdk-'));
  return { app: new App({ outdir, context: { ...flags, 'aws:cdk:bundling-stacks': [] } }), outdir };
}

/**
 * `prepare` may add stacks (e.g. one owning an existing VPC) and returns the props.
 * @default the recommended deployment: TLS with a certificate, every other prop at its default
 */
export function synthesize(prepare: (app: App) => RobustMQStackProps = () => ({ certificateArn: CERT })): Synthesized {
  const { app, outdir } = testApp();
  const stack = new RobustMQStack(app, 'RobustMQ', prepare(app));
  const template = Template.fromStack(stack);
  const nag = new AwsSolutionsChecks().validateScope(stack);
  return { stack, template, nag, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Findings as readable lines, for assertion messages. */
export function describeFindings(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
}

/** Resources of one type, by logical id. */
export function resources(template: Template, type: string): Array<[string, { Properties: Record<string, any>; [k: string]: any }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties: Record<string, any> }]>;
}

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0];
}

export const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;

/** Every IAM statement of the policies attached to a role (given by its construct). */
export function statementsOf(synth: Synthesized, role: { node: { defaultChild?: unknown } }): Array<Record<string, any>> {
  const roleId = logicalId(synth.stack, role);
  return resources(synth.template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

/** An IAM Action or Resource value as a list. */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** What a scheduler writes in the table: conditional puts and updates, deletes of stale entries, transaction checks. */
export const LEADERSHIP_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'];

/** A container's environment (CloudFormation's Name/Value list) as a record. */
export const envOf = (vars: Array<{ Name: string; Value: unknown }>): Record<string, unknown> =>
  Object.fromEntries(vars.map((v) => [v.Name, v.Value]));

/** A container's ECS secrets (CloudFormation's Name/ValueFrom list) as a record. */
export const secretsOf = (vars: Array<{ Name: string; ValueFrom: unknown }> | undefined): Record<string, unknown> =>
  Object.fromEntries((vars ?? []).map((v) => [v.Name, v.ValueFrom]));

/** Variable names that say "this holds a credential": none of them may be a plain environment variable. */
export const SECRET_ISH_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|(^|_)KEY$/i;

/**
 * What in a template could be a secret typed into the code: a string under a key that names a credential
 * (SecretString, Password, ...), or a string token of 16+ letters and digits mixing upper case, lower case and
 * digits, as generated secrets and tokens look. Not values: references (Ref, Fn::GetAtt, DependsOn), resource
 * types, the template's logical ids and the names CDK derives from construct paths (`generatedNames`: task
 * families, scaling policy names); asset hashes are lower-case hex.
 */
export function literalSecretCandidates(template: Record<string, any>, derivedNames: ReadonlySet<string> = new Set()): string[] {
  const logicalIds = new Set(Object.keys(template.Resources ?? {}));
  const found: string[] = [];
  const walk = (node: unknown, key: string | undefined, path: string): void => {
    if (typeof node === 'string') {
      if (key !== undefined && /secret|password|passwd|token|credential/i.test(key)) found.push(`${path}: ${node}`);
      if (key === 'Type' && /^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/.test(node)) return;
      for (const token of node.match(/[A-Za-z0-9+=]{16,}/g) ?? []) {
        if (!(/[a-z]/.test(token) && /[A-Z]/.test(token) && /[0-9]/.test(token))) continue;
        if (!logicalIds.has(token) && !derivedNames.has(token)) found.push(`${path}: ${token}`);
      }
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, key, `${path}[${i}]`));
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Ref' || k === 'Fn::GetAtt' || k === 'DependsOn') continue;
        walk(v, k, `${path}.${k}`);
      }
    }
  };
  walk(template, undefined, '$');
  return found;
}

/** The names CDK derives from every construct's path (path components plus a hash), as some resources are named. */
export const generatedNames = (stack: Stack): Set<string> => new Set(stack.node.findAll().map((c) => Names.uniqueId(c)));

/** A value of the alphabet and length Secrets Manager generates (letters and digits), for loadConfig checks. */
export const sampleSecret = (length: number): string => 'Aa7'.repeat(Math.ceil(length / 3)).slice(0, length);

/** CloudFormation values replaced by what they resolve to in a deployment. */
export function concrete(env: Record<string, unknown>): Record<string, string> {
  const sample = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const json = JSON.stringify(v);
    if (json.includes('AWS::Region')) return 'eu-west-1';
    if (json.includes('DNSName')) return 'robustmq-nlb-0123.elb.eu-west-1.amazonaws.com';
    if (json.includes('LoadBalancerFullName')) return 'net/robustmq/0123456789abcdef';
    return `resolved-${Math.abs(json.length)}`;
  };
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, sample(v)]));
}
