/**
 * The initial user through the real CLI (`robustmq start --auth on` with ROBUSTMQ_INITIAL_USER and
 * ROBUSTMQ_INITIAL_USER_PASSWORD): created on the first start and able to log in over MQTT, left alone by a restart
 * with another password, never logged with its password; a name without a password stops the start.
 */
import { rm } from 'node:fs/promises';
import type { ErrorWithReasonCode } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, isolatedFlags, runCli, startBroker, type StartedBroker } from '../helpers/cli.js';
import { connectClient, endAll } from '../helpers/mqtt.js';
import { tempDir } from '../helpers/node.js';

let dataDir: string;
let broker: StartedBroker | undefined;

beforeAll(async () => {
  assertBuilt();
  dataDir = await tempDir('robustmq-initial-user-');
});
afterAll(async () => {
  await broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const flags = () => [...isolatedFlags(dataDir), '--auth', 'on', '--admin-token', 'initial-user-admin-token'];
const env = (password: string) => ({ ROBUSTMQ_INITIAL_USER: 'admin', ROBUSTMQ_INITIAL_USER_PASSWORD: password });
const login = (password: string) =>
  connectClient(`mqtt://127.0.0.1:${broker!.ports.mqtt}`, { protocolVersion: 5, username: 'admin', password }).then(
    async (client) => {
      await endAll(client);
      return 0;
    },
    (err: ErrorWithReasonCode) => err.code,
  );
const messages = () => broker!.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('--initial-user', () => {
  it('is created on the first start and logs in over MQTT', async () => {
    broker = await startBroker(flags(), env('first-password'));
    expect(messages()).toContain('created initial user admin');
    expect(broker.lines.join('\n')).not.toContain('first-password');
    expect(await login('first-password')).toBe(0);
    expect(await login('wrong')).toBe(0x86);
    await broker.stop();
    broker = undefined;
  });

  it('keeps its password across a restart that names another one', async () => {
    broker = await startBroker(flags(), env('second-password'));
    expect(messages()).not.toContain('created initial user admin');
    expect(await login('first-password')).toBe(0);
    expect(await login('second-password')).toBe(0x86);
    await broker.stop();
    broker = undefined;
  });

  it('stops the start when the password is missing, naming ROBUSTMQ_INITIAL_USER_PASSWORD', async () => {
    const r = await runCli(['start', ...flags()], { ROBUSTMQ_INITIAL_USER: 'admin' });
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/ROBUSTMQ_INITIAL_USER_PASSWORD/);
  });
});
