/** The three MQTT brokers under comparison, each started in its own process on a loopback port. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { forkChild, freePort, nextMessage, spawnTracked, stopChild, waitForPort } from './proc.js';

export interface BrokerHandle {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** How it was configured, for the results file. */
  readonly settings: Record<string, unknown>;
  stop(): Promise<void>;
}

export type BrokerName = 'robustmq' | 'aedes' | 'mosquitto';
export const MQTT_BROKERS: readonly BrokerName[] = ['robustmq', 'aedes', 'mosquitto'];

export function startBroker(name: BrokerName): Promise<BrokerHandle> {
  switch (name) {
    case 'robustmq':
      return startRobustMQ();
    case 'aedes':
      return startAedes();
    case 'mosquitto':
      return startMosquitto();
  }
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('child process has no pid');
  return child.pid;
}

export interface RobustMQHandle extends BrokerHandle {
  readonly ports: Record<string, number>;
}

/** A RobustMQ node with every listener on an ephemeral port; throws if the MQTT listener is missing. */
export async function startRobustMQ(overrides: Record<string, unknown> = {}): Promise<RobustMQHandle> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-bench-'));
  const config = {
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    wsPort: 0,
    kafkaPort: 0,
    adminPort: 0,
    logLevel: 'warn',
    storage: 'memory',
    ...overrides,
  };
  const child = forkChild('robustmq-node.mjs', [JSON.stringify(config)]);
  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const { ports } = await nextMessage<{ type: string; ports: Record<string, number> }>(child, 'listening');
    return { name: 'robustmq', pid: pidOf(child), port: ports.mqtt ?? 0, ports, settings: config, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function startAedes(): Promise<BrokerHandle> {
  const child = forkChild('aedes-broker.mjs');
  try {
    const { port } = await nextMessage<{ type: string; port: number }>(child, 'listening');
    return { name: 'aedes', pid: pidOf(child), port, settings: { persistence: 'memory (default)' }, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

async function startMosquitto(): Promise<BrokerHandle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mosquitto-bench-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 1000000',
    'max_queued_bytes 0',
    'max_inflight_messages 0',
    'sys_interval 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  const configFile = path.join(dir, 'mosquitto.conf');
  await writeFile(configFile, lines.join('\n') + '\n');
  const child = spawnTracked('mosquitto', ['-c', configFile]);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderr += d;
    process.stderr.write(`[mosquitto] ${d}`);
  });
  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForPort(port),
      new Promise((_, reject) => {
        child.once('error', (err) => reject(new Error(`mosquitto did not start: ${err.message}`)));
        child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${stderr.trim()}`)));
      }),
    ]);
    return { name: 'mosquitto', pid: pidOf(child), port, settings: { config: lines }, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
