/**
 * Failover behind one endpoint (acceptance, phase 1): dynalite + s3rver, one `robustmq meta` and three
 * `robustmq broker` child processes advertising a single address (a TCP load balancer). kcat (librdkafka,
 * acks=all, idempotent, retrying) produces to a 6-partition topic and a kafkajs consumer group consumes, while the
 * broker that coordinates the group and leads two partitions is killed with SIGKILL:
 *  - every partition has a live leader again within 5 s of the dead broker's lease expiry;
 *  - the producer recovers by itself, and every acknowledged record is stored once, in order per partition;
 *  - the consumer group keeps consuming across the kill and a new member resumes from the committed offsets.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf } from '../../runtime/cluster/ownership.js';
import type { BrokerLeaseValue } from '../../runtime/cluster/records.js';
import { assertBuilt } from '../helpers/cli.js';
import {
  clusterStatus,
  LoadBalancer,
  SHORT_LEASE_TTL_MS,
  startBrokerProcess,
  startInfra,
  startMeta,
  until,
  type Child,
  type ClusterInfra,
} from '../helpers/cluster.js';
import { kcat } from '../helpers/kafka-kcat.js';

const TOPIC = 'orders';
const GROUP = 'failover-group';
const LEASE_TTL_MS = SHORT_LEASE_TTL_MS;
const IDS = ['b1', 'b2', 'b3'];
/** The broker killed: the one coordinating the group (rendezvous hashing of the ids alone, known before start). */
const VICTIM = ownerOf(GROUP, IDS.map((id) => ({ id }) as BrokerLeaseValue))!.id;
let infra: ClusterInfra;
let lb: LoadBalancer;
let meta: Child;
const brokers = new Map<string, Child>();
const dead = new Set<string>();

beforeAll(async () => {
  assertBuilt();
  infra = await startInfra('failover');
  lb = new LoadBalancer(() => [...brokers].filter(([id]) => !dead.has(id)).map(([, b]) => b.ports.kafka));
  const lbPort = await lb.listen();
  meta = await startMeta(infra);
  // Only the victim has a short lease (the test waits for it to expire); the survivors keep the long default, so a
  // stalled machine cannot expire theirs.
  for (const id of IDS) {
    const lease: Record<string, number> = id === VICTIM ? { 'cluster-lease-ttl-ms': LEASE_TTL_MS } : {};
    brokers.set(id, await startBrokerProcess(infra, id, { 'advertised-host': '127.0.0.1', 'advertised-port': lbPort, ...lease }));
  }
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) b.kill('SIGKILL');
  meta?.kill('SIGKILL');
  await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
  await lb?.close();
  await infra?.close();
});

function admin(): number {
  const [, b] = [...brokers].find(([id]) => !dead.has(id))!;
  return b.ports.admin;
}

function kafka(): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${lb.port}`],
    clientId: 'cluster-failover',
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** A kafkajs group member recording every value it is given. */
async function member(seen: number[], extras: string[]): Promise<Consumer> {
  const consumer = kafka().consumer({ groupId: GROUP, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 300,
    eachMessage: async ({ message }) => {
      const v = message.value!.toString();
      if (v.startsWith('extra-')) extras.push(v);
      else seen.push(Number(v));
    },
  });
  return consumer;
}

/** kcat as a long-running idempotent producer fed line by line: `key:value`. */
function producer(): { write(line: string): void; end(): Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(
    'kcat',
    [
      // -E: keep going on errors that are not fatal (e.g. "all broker connections are down" while the connection
      // through the load balancer is re-established).
      '-b', `127.0.0.1:${lb.port}`, '-P', '-E', '-t', TOPIC, '-K:',
      '-X', 'acks=all',
      '-X', 'enable.idempotence=true',
      '-X', 'message.send.max.retries=1000000',
      '-X', 'retry.backoff.ms=100',
      '-X', 'message.timeout.ms=60000',
      '-X', 'linger.ms=5',
      '-X', 'topic.partitioner=murmur2_random',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    write: (line) => void child.stdin!.write(`${line}\n`),
    end: async () => {
      child.stdin!.end();
      return { code: await exited, stderr };
    },
  };
}

describe('a cluster behind one endpoint', () => {
  it('keeps producing and consuming across a SIGKILLed broker: leaders back within 5 s of lease expiry, every acked record once', async () => {
    const created = await fetch(`http://127.0.0.1:${admin()}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: TOPIC, partitions: 6 }),
    });
    expect(created.status).toBe(201);
    const balanced = await until(async () => {
      const s = await clusterStatus(admin());
      return s.nodes.length === 3 && s.nodes.every((n) => n.partitions === 2) ? s : undefined;
    }, 10_000);
    // The victim coordinates the group and leads two partitions: both must fail over.
    const victim = ownerOf(GROUP, balanced.nodes.map((n) => ({ id: n.brokerId }) as BrokerLeaseValue))!.id;
    expect(victim).toBe(VICTIM);

    const seen: number[] = [];
    const extras: string[] = [];
    const timing: Record<string, unknown> = {};
    const first = await member(seen, extras);
    const prod = producer();
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 5; i++, sent++) prod.write(`k${sent % 60}:${sent}`);
    }, 10);
    try {
      await until(() => (seen.length > 200 ? true : undefined), 20_000);
      const killedAt = Date.now();
      brokers.get(victim)!.kill('SIGKILL');
      dead.add(victim);
      const ledAt = await until(async () => {
        const s = await clusterStatus(admin());
        const ok = s.nodes.length === 2 && s.leaderless.length === 0 && s.nodes.reduce((n, b) => n + b.partitions, 0) === 6;
        return ok ? Date.now() : undefined;
      }, LEASE_TTL_MS + 10_000, 25);
      const expiry = await meta.waitFor((l) => l.msg === 'broker lease expired; partitions reassigned' && l.brokerId === victim, 5000);
      const expiredAt = expiry.expiredAt as number;
      expect(expiredAt).toBeGreaterThan(killedAt);
      expect(ledAt - expiredAt).toBeLessThan(5000);
      expect(ledAt - killedAt).toBeLessThan(LEASE_TTL_MS + 5000);
      Object.assign(timing, { expiryToLedMs: ledAt - expiredAt, killToLedMs: ledAt - killedAt, schedulerFailoverMs: expiry.failoverMs });
      // Producing goes on a while with the survivors.
      const before = sent;
      await until(() => (sent > before + 1000 ? true : undefined), 20_000);
    } finally {
      clearInterval(pump);
    }
    const { code, stderr } = await prod.end();
    expect({ code, stderr: stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: expect.any(String) });
    // Connection losses are logged (the killed broker); no message may have failed delivery.
    expect(stderr).not.toMatch(/delivery failed|message timed out/i);

    // Every record kcat was given was acknowledged (it exits 0 only then) and is stored exactly once, in order.
    const { stdout } = await kcat(lb.port, ['-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n'], '', 60_000);
    const stored = stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
    expect(stored.length).toBe(sent);
    expect(new Set(stored.map(([, , v]) => v)).size).toBe(sent);
    const lastByPartition = new Map<number, number>();
    for (const [p, , v] of stored) {
      expect(v).toBeGreaterThan(lastByPartition.get(p) ?? -1);
      lastByPartition.set(p, v);
    }

    // The group consumed across the kill: every record at least once.
    await until(() => (new Set(seen).size === sent ? true : undefined), 30_000, 100);
    await new Promise((r) => setTimeout(r, 1000)); // one more auto-commit round
    await first.disconnect();

    // A new member resumes from the committed offsets: it gets the new records, not the history again.
    const offsets = await (async () => {
      const a = kafka().admin();
      await a.connect();
      try {
        return (await a.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions;
      } finally {
        await a.disconnect();
      }
    })();
    const committed = offsets.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    expect(committed).toBeGreaterThan(sent * 0.9);
    const again = producer();
    for (let i = 0; i < 20; i++) again.write(`x${i}:extra-${i}`);
    expect((await again.end()).code).toBe(0);
    const resumed: number[] = [];
    const second = await member(resumed, extras);
    try {
      await until(() => (extras.length >= 20 ? true : undefined), 30_000, 100);
    } finally {
      await second.disconnect();
    }
    expect(new Set(extras).size).toBe(20);
    // Only records past the committed offsets come again (those after the last commit of the first member).
    expect(resumed.length).toBe(sent - committed);
    console.info(JSON.stringify({ victim, sent, committed, resumed: resumed.length, consumed: seen.length, ...timing }));
  }, 150_000);
});
