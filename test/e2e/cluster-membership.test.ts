/**
 * Membership of a cluster in Kafka's normal mode (no --advertised-host: Metadata lists every broker): `meta` and
 * broker processes on dynalite + s3rver. A joining broker gets partitions gradually (at most the configured moves
 * per minute) by cooperative handoff while a producer keeps going; Metadata and `robustmq cluster status` show
 * every broker and the real leaders; SIGTERM drains a broker (its partitions handed over, then exit 0) without a
 * partition ever lacking a leader, and the producer never notices.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { clusterStatus, startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra, type ClusterStatus } from '../helpers/cluster.js';
import { ownerOf } from '../../runtime/cluster/ownership.js';
import type { BrokerLeaseValue } from '../../runtime/cluster/records.js';
import { kcat } from '../helpers/kafka-kcat.js';
import { RawKafka } from '../helpers/kafka-raw.js';

const TOPIC = 'members';
let infra: ClusterInfra;
let produced = 0;
let meta: Child;
const brokers = new Map<string, Child>();

beforeAll(async () => {
  assertBuilt();
  infra = await startInfra('membership');
  // One balancing move per minute: the second one a join calls for must wait.
  meta = await startMeta(infra, { 'cluster-moves-per-minute': 1 });
  for (const id of ['b1', 'b2']) brokers.set(id, await startBrokerProcess(infra, id));
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) b.kill('SIGKILL');
  meta?.kill('SIGKILL');
  await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
  await infra?.close();
});

const status = (): Promise<ClusterStatus> => clusterStatus(brokers.get('b1')!.ports.admin);
const counts = (s: ClusterStatus): Record<string, number> => Object.fromEntries(s.nodes.map((n) => [n.brokerId, n.partitions]));

function producer(port: number): { write(line: string): void; end(): Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(
    'kcat',
    ['-b', `127.0.0.1:${port}`, '-P', '-E', '-t', TOPIC, '-K:', '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5',
      '-X', 'message.timeout.ms=60000', '-X', 'topic.partitioner=murmur2_random', '-X', 'topic.metadata.refresh.interval.ms=1000'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { write: (line) => void child.stdin!.write(`${line}\n`), end: async () => (child.stdin!.end(), { code: await exited, stderr }) };
}

describe('cluster membership', () => {
  it('rebalances onto a joining broker gradually and drains a broker on SIGTERM, without stopping traffic', async () => {
    const created = await fetch(`http://127.0.0.1:${brokers.get('b1')!.ports.admin}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: TOPIC, partitions: 8 }),
    });
    expect(created.status).toBe(201);
    await until(async () => {
      const c = counts(await status());
      return c.b1 === 4 && c.b2 === 4 ? true : undefined;
    }, 10_000);

    const prod = producer(brokers.get('b1')!.ports.kafka);
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 3; i++, sent++) prod.write(`k${sent % 40}:${sent}`);
    }, 10);
    try {
      // b3 joins: one partition moves at once, the next only after the minute's budget refills.
      brokers.set('b3', await startBrokerProcess(infra, 'b3'));
      const joined = await until(async () => {
        const s = await status();
        return counts(s).b3 === 1 ? s : undefined;
      }, 10_000);
      expect(joined.nodes.reduce((n, b) => n + b.partitions, 0)).toBe(8);
      await new Promise((r) => setTimeout(r, 3000));
      const later = await status();
      expect(counts(later).b3).toBe(1);
      expect(later.leaderless).toEqual([]);
      const moved = later.nodes.find((n) => n.brokerId === 'b3')!.led[0];
      expect(moved.epoch).toBe(2);

      // Metadata (normal mode) lists every broker and each partition's real leader.
      const { stdout: listing } = await kcat(brokers.get('b2')!.ports.kafka, ['-L', '-t', TOPIC]);
      expect(listing).toMatch(/3 brokers:/);
      for (const n of later.nodes) {
        expect(listing).toContain(`broker ${n.id} at 127.0.0.1:`);
        for (const p of n.led) expect(listing).toMatch(new RegExp(`partition ${p.partition}, leader ${n.id},`));
      }
      const cli = await runCli(['cluster', 'status', '--admin', `http://127.0.0.1:${brokers.get('b3')!.ports.admin}`]);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toMatch(/Mode: cluster/);
      for (const id of ['b1', 'b2', 'b3']) expect(cli.stdout).toMatch(new RegExp(`^${id}\\s+\\d+\\s+live\\s`, 'm'));

      // SIGTERM b2: it hands its partitions over and exits 0; at no sample is a partition without a leader.
      const b2 = brokers.get('b2')!;
      const before = new Map(later.nodes.find((n) => n.brokerId === 'b2')!.led.map((p) => [p.partition, p.epoch]));
      let leaderless = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const s = await status().catch(() => undefined);
          if (s) leaderless += s.leaderless.length;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      b2.kill('SIGTERM');
      expect(await b2.exited).toBe(0);
      brokers.delete('b2');
      const drained = await until(async () => {
        const s = await status();
        return s.nodes.length === 2 && s.nodes.reduce((n, b) => n + b.partitions, 0) === 8 ? s : undefined;
      }, 10_000);
      sampling = false;
      await sampler;
      expect(leaderless).toBe(0);
      for (const n of drained.nodes) {
        for (const p of n.led) if (before.has(p.partition)) expect(p.epoch).toBe(before.get(p.partition)! + 1);
      }
      expect(b2.lines.some((l) => l.msg === 'partition handed over')).toBe(true);
      const before2 = sent;
      await until(() => (sent > before2 + 300 ? true : undefined), 10_000);
    } finally {
      clearInterval(pump);
    }
    const { code, stderr } = await prod.end();
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/delivery failed|message timed out/i);
    const { stdout } = await kcat(brokers.get('b1')!.ports.kafka, ['-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], '', 60_000);
    const values = stdout.trim().split('\n').map(Number);
    expect(values.length).toBe(sent);
    expect(new Set(values).size).toBe(sent);
    produced = sent;
  }, 120_000);

  it("points FindCoordinator at the group's owner and serves a kafkajs group from there", async () => {
    expect(produced).toBeGreaterThan(0);
    const group = 'normal-mode-group';
    const s = await status();
    const owner = s.nodes.find((n) => n.brokerId === ownerOf(group, s.nodes.map((n) => ({ id: n.brokerId }) as BrokerLeaseValue))!.id)!;
    for (const b of brokers.values()) {
      const raw = await RawKafka.connect(b.ports.kafka);
      const found = await raw.request(10, 3, { key: group, keyType: 0, coordinatorKeys: [] });
      raw.close();
      expect(found).toMatchObject({ errorCode: 0, nodeId: owner.id, host: '127.0.0.1', port: brokers.get(owner.brokerId)!.ports.kafka });
    }
    const kafka = new Kafka({ brokers: [`127.0.0.1:${brokers.get('b1')!.ports.kafka}`], clientId: 'normal-mode', logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    const seen = new Set<string>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      await until(() => (seen.size === produced ? true : undefined), 30_000, 100);
    } finally {
      await consumer.disconnect();
    }
  }, 60_000);
});
