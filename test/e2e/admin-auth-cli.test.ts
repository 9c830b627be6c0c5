/**
 * `robustmq user` and `robustmq acl` through the real binary against a node started with --auth on: the CLI sends
 * --admin-token or ROBUSTMQ_ADMIN_TOKEN, and without it gets the admin API's refusal as one line.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, isolatedFlags, runCli, startBroker, type CliResult, type StartedBroker } from '../helpers/cli.js';
import { tempDir } from '../helpers/node.js';

let dataDir: string;
let broker: StartedBroker;
let token: string;
const admin = () => ['--admin', `http://127.0.0.1:${broker.ports.admin}`];

/** Runs the CLI with `input` on its standard input. */
const runCliWithInput = (args: string[], input: string): Promise<CliResult> => runCli(args, {}, 20_000, input);

beforeAll(async () => {
  assertBuilt();
  dataDir = await tempDir();
  broker = await startBroker([...isolatedFlags(dataDir), '--auth', 'on']);
  const line = broker.lines.map((l) => JSON.parse(l) as { adminToken?: string }).find((l) => l.adminToken);
  token = line!.adminToken!;
});
afterAll(async () => {
  if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('robustmq user / acl (real binary, --auth on)', () => {
  it('refuses without a token, with a one-line error', async () => {
    const r = await runCli(['user', 'list', ...admin()], { ROBUSTMQ_ADMIN_TOKEN: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^robustmq: missing or wrong admin token .*\(UNAUTHENTICATED\)\n$/);
  });

  it('adds users from --password and --password-stdin, lists and deletes them (--admin-token)', async () => {
    const added = await runCli(['user', 'add', 'alice', '--password', 'a-pw', '--admin-token', token, ...admin()]);
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe('Added user "alice" (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).\n');
    const viaStdin = await runCliWithInput(['user', 'add', 'bob', '--password-stdin', '--admin-token', token, ...admin()], 'b-pw\n');
    expect(viaStdin.code).toBe(0);
    const listed = await runCli(['user', 'list', '--json', '--admin-token', token, ...admin()]);
    expect(JSON.parse(listed.stdout).map((u: { name: string }) => u.name)).toEqual(['alice', 'bob']);
    const both = await runCli(['user', 'add', 'carol', '--admin-token', token, ...admin()]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --password or --password-stdin');
    const deleted = await runCli(['user', 'delete', 'bob', '--admin-token', token, ...admin()]);
    expect(deleted.stdout).toBe('Deleted user "bob".\n');
  });

  it('adds, lists and deletes ACL rules (ROBUSTMQ_ADMIN_TOKEN)', async () => {
    const env = { ROBUSTMQ_ADMIN_TOKEN: token };
    const added = await runCli(['acl', 'add', '--user', 'alice', '--allow', 'produce', '--topic', 'orders-*', ...admin()], env);
    expect(added.stderr).toBe('');
    const id = /Added rule ([0-9a-f]{16}): allow alice produce topic:orders-\*\./.exec(added.stdout)?.[1];
    expect(id).toBeDefined();
    await runCli(['acl', 'add', '--user', '*', '--deny', 'subscribe', '--mqtt', 'secret/#', ...admin()], env);
    const table = await runCli(['acl', 'list', ...admin()], env);
    expect(table.stdout).toMatch(/ID\s+USER\s+EFFECT\s+ACTION\s+RESOURCE/);
    expect(table.stdout).toMatch(/\*\s+deny\s+subscribe\s+mqtt:secret\/#/);
    const onlyAlice = await runCli(['acl', 'list', '--user', 'alice', '--json', ...admin()], env);
    expect(JSON.parse(onlyAlice.stdout)).toHaveLength(1);
    const bad = await runCli(['acl', 'add', '--user', 'alice', '--allow', 'publish', '--topic', 't', ...admin()], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('action on topic must be one of');
    expect((await runCli(['acl', 'delete', id!, ...admin()], env)).stdout).toBe(`Deleted rule ${id}.\n`);
  });
});
