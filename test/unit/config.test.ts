import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config/load.js';
import { RobustMQError } from '../../runtime/errors.js';
import { tempDir } from '../helpers/node.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RobustMQError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('config loading', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      dataDir: './data',
      host: '0.0.0.0',
      mqttPort: 1883,
      wsPort: 8083,
      kafkaPort: 9092,
      adminPort: 8080,
      meta: 'embedded',
      logLevel: 'info',
    });
  });

  it('takes flags over env over file over defaults', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'robustmq.yaml');
    writeFileSync(file, 'mqtt-port: 1000\nkafkaPort: 1001\nadmin-port: 1002\nlog-level: debug\n');
    const c = loadConfig({
      configFile: file,
      env: { ROBUSTMQ_KAFKA_PORT: '2001', ROBUSTMQ_ADMIN_PORT: '2002' },
      flags: { adminPort: '3002', host: undefined },
    });
    expect(c.mqttPort).toBe(1000);
    expect(c.kafkaPort).toBe(2001);
    expect(c.adminPort).toBe(3002);
    expect(c.logLevel).toBe('debug');
    expect(c.host).toBe('0.0.0.0');
  });

  it('reads JSON config files and ROBUSTMQ_CONFIG', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ dataDir: '/var/lib/robustmq', wsPort: 0 }));
    const c = loadConfig({ env: { ROBUSTMQ_CONFIG: file } });
    expect(c.dataDir).toBe('/var/lib/robustmq');
    expect(c.wsPort).toBe(0);
  });

  it('names the flag and the accepted values on bad input', () => {
    expect(errorOf(() => loadConfig({ flags: { storage: 'floppy' } }))).toMatch(/--storage: expected one of segment, memory, s3.*floppy/);
    expect(errorOf(() => loadConfig({ flags: { mqttPort: '70000' } }))).toMatch(/--mqtt-port: must be a port number/);
    expect(errorOf(() => loadConfig({ env: { ROBUSTMQ_KAFKA_PORT: 'abc' } }))).toMatch(/--kafka-port/);
    expect(errorOf(() => loadConfig({ flags: { logLevel: 'loud' } }))).toMatch(/--log-level: expected one of trace/);
    expect(errorOf(() => loadConfig({ flags: { flush: 'sometimes' } }))).toMatch(/--flush: must be always, os or interval:MS/);
  });

  it('refuses unreadable, malformed and unknown-key config files', async () => {
    const dir = await tempDir();
    expect(errorOf(() => loadConfig({ configFile: path.join(dir, 'missing.yaml') }))).toMatch(/cannot read config file .*ENOENT/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'a: [1, 2\n');
    expect(errorOf(() => loadConfig({ configFile: bad }))).toMatch(/not valid YAML or JSON/);
    const unknown = path.join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'mqtt-prot: 1\n');
    expect(errorOf(() => loadConfig({ configFile: unknown }))).toMatch(/unknown option "mqtt-prot"/);
    const list = path.join(dir, 'list.yaml');
    writeFileSync(list, '- 1\n');
    expect(errorOf(() => loadConfig({ configFile: list }))).toMatch(/must hold a mapping/);
  });
});
