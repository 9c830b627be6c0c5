import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, isolatedFlags, runCli, startBroker, type StartedBroker } from '../helpers/cli.js';
import { tempDir } from '../helpers/node.js';

let dataDir: string;
let broker: StartedBroker | undefined;
const admin = () => ['--admin', `http://127.0.0.1:${broker!.ports.admin}`];

beforeAll(async () => {
  assertBuilt();
  dataDir = await tempDir();
  broker = await startBroker(isolatedFlags(dataDir));
});
afterAll(async () => {
  if (broker && broker.child.exitCode === null) await broker.stop('SIGKILL');
});

describe('robustmq CLI (real binary)', () => {
  it('prints help without a separate build step', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/start/);
    expect(r.stdout).toMatch(/topic/);
    const start = await runCli(['start', '--help']);
    expect(start.stdout).toContain('--mqtt-port <value>');
    expect(start.stdout).toContain('ROBUSTMQ_DATA_DIR');
  });

  it('logs the chosen ports when started with port 0', () => {
    for (const name of ['admin']) expect(broker!.ports[name]).toBeGreaterThan(0);
  });

  it('creates and describes a topic, and it survives a restart', async () => {
    const created = await runCli(['topic', 'create', 't1', '--partitions', '3', ...admin()]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Created topic "t1" with 3 partition(s)');

    const described = await runCli(['topic', 'describe', 't1', ...admin()]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/PARTITION\s+LOG-START\s+HIGH-WATERMARK/);
    expect(described.stdout.trim().split('\n').filter((l) => /^\d+\s/.test(l))).toHaveLength(3);

    const json = await runCli(['topic', 'list', '--json', ...admin()]);
    expect(JSON.parse(json.stdout).map((t: { name: string }) => t.name)).toEqual(['t1']);

    expect(await broker!.stop('SIGTERM')).toBe(0);
    broker = await startBroker(isolatedFlags(dataDir));
    const again = await runCli(['topic', 'describe', 't1', '--json', ...admin()]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).partitionInfo).toHaveLength(3);
  });

  it('exits non-zero with the server message on failure', async () => {
    const dup = await runCli(['topic', 'create', 't1', ...admin()]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr.trim()).toBe('robustmq: topic "t1" already exists (ALREADY_EXISTS)');
    const missing = await runCli(['topic', 'describe', 'nope', ...admin()]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('unknown topic "nope"');
    const unreachable = await runCli(['topic', 'list', '--admin', 'http://127.0.0.1:1']);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/cannot reach the admin API/);
  });

  it('deletes topics and shows cluster status', async () => {
    await runCli(['topic', 'create', 'gone', ...admin()]);
    const del = await runCli(['topic', 'delete', 'gone', ...admin()]);
    expect(del.code).toBe(0);
    const list = await runCli(['topic', 'list', ...admin()]);
    expect(list.stdout).not.toMatch(/^gone\s/m);
    const status = await runCli(['cluster', 'status', ...admin()]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Mode: standalone/);
    expect(status.stdout).toMatch(/NODE\s+HOST/);
  });

  it('refuses bad config at start with a one-line reason', async () => {
    const dir = await tempDir();
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--storage', 'floppy'], {}, /invalid --storage: expected one of/],
      [['--mqtt-port', '70000'], {}, /invalid --mqtt-port: must be a port number from 0 to 65535/],
      [['--config', path.join(dir, 'nope.yaml')], {}, /cannot read config file/],
      [[], { ROBUSTMQ_STORAGE: 'tape' }, /invalid --storage: expected one of .*"tape"/],
      [['--admin-port', '-5'], {}, /invalid --admin-port/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(['start', ...isolatedFlags(dir), ...args], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('reads options from a config file, overridden by env and flags', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'robustmq.yaml');
    writeFileSync(file, `data-dir: ${dir}\nhost: 127.0.0.1\nmqtt-port: 0\nws-port: 0\nkafka-port: 0\nadmin-port: 0\nstorage: floppy\n`);
    const bad = await runCli(['start', '--config', file]);
    expect(bad.stderr).toMatch(/invalid --storage/);
    const ok = await startBroker(['--config', file, '--storage', 'memory'], { ROBUSTMQ_LOG_LEVEL: 'debug' });
    expect(ok.lines.some((l) => l.includes('"level":20'))).toBe(true);
    expect(await ok.stop('SIGINT')).toBe(0);
  });
});
