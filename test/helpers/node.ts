/** Starts a whole node in-process on ephemeral loopback ports with a temp data dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nodeConfigSchema, type NodeConfigInput } from '../../runtime/config/schema.js';
import { createLogger } from '../../runtime/logger.js';
import { startNode, type RunningNode, type StartOptions } from '../../runtime/node.js';

export interface TestNode extends RunningNode {
  readonly dataDir: string;
  /** Stops the node (if running) and removes its data dir. */
  destroy(): Promise<void>;
}

export async function tempDir(prefix = 'robustmq-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function testConfig(dataDir: string, overrides: Partial<NodeConfigInput> = {}) {
  return nodeConfigSchema.parse({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    wsPort: 0,
    kafkaPort: 0,
    adminPort: 0,
    // The TLS listeners open only with --tls-cert; when a test gives one, they take free ports too.
    mqttTlsPort: 0,
    wssPort: 0,
    logLevel: 'silent',
    ...overrides,
  });
}

/** Starts a node; pass `dataDir` in overrides to restart on an existing directory. */
export async function startTestNode(overrides: Partial<NodeConfigInput> = {}, options: StartOptions = {}): Promise<TestNode> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const config = testConfig(dataDir, overrides);
  const level = process.env.ROBUSTMQ_TEST_LOG_LEVEL;
  const node = await startNode(config, {
    log: createLogger((level as never) ?? 'silent', { pretty: false }),
    ...options,
  });
  return {
    ...node,
    dataDir,
    destroy: async () => {
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
