/**
 * A RobustMQ cluster on loopback for e2e tests and the failover benchmark: dynalite (DynamoDB) and s3rver (S3)
 * in this process, `robustmq meta` and `robustmq broker` as real child processes of the compiled CLI, and a TCP
 * load balancer in front of the brokers' Kafka listeners (round robin over the brokers that are up) — the one
 * address clients get when Metadata advertises a single endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import { BIN, ROOT } from './cli.js';
import { startDynalite, TEST_CREDENTIALS, type Dynalite } from './dynalite.js';
import { tempDir } from './node.js';
import { S3_TEST_CREDENTIALS, startS3rver, type TestS3 } from './s3rver.js';

export interface ClusterInfra {
  readonly dynamo: Dynalite;
  readonly s3: TestS3;
  readonly dataDir: string;
  readonly tablePrefix: string;
  /** Environment of every child process (fake AWS credentials, the cluster secret). */
  readonly env: NodeJS.ProcessEnv;
  /** The secret this cluster's brokers share. */
  readonly clusterSecret: string;
  /** A client of the cluster's MetaStore, for inspection (closed with the infra). */
  meta(): Promise<DynamoMetaStore>;
  close(): Promise<void>;
}

export async function startInfra(tablePrefix = 'cluster'): Promise<ClusterInfra> {
  const s3 = await startS3rver();
  const dynamo = await startDynalite();
  const dataDir = await tempDir('robustmq-cluster-');
  const stores: DynamoMetaStore[] = [];
  const clusterSecret = randomBytes(24).toString('base64url');
  return {
    dynamo,
    s3,
    dataDir,
    tablePrefix,
    env: {
      AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Brokers authenticate each other with it (runtime/cluster/peer-tls.ts); the env, so it is not in argv.
      ROBUSTMQ_CLUSTER_SECRET: clusterSecret,
    },
    clusterSecret,
    meta: async () => {
      const store = await DynamoMetaStore.open({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, tablePrefix, maxAttempts: 2 });
      stores.push(store);
      return store;
    },
    close: async () => {
      for (const store of stores) await store.close();
      await dynamo.close();
      await s3.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Flags every role shares: loopback, ephemeral ports, the shared table and bucket, fast cluster timers. */
export function commonFlags(infra: ClusterInfra, extra: Record<string, string | number | boolean> = {}): string[] {
  const flags: Record<string, string | number | boolean> = {
    'data-dir': infra.dataDir,
    host: '127.0.0.1',
    'admin-port': 0,
    meta: 'dynamodb',
    'dynamodb-endpoint': infra.dynamo.endpoint,
    'dynamodb-region': 'us-east-1',
    'dynamodb-table-prefix': infra.tablePrefix,
    'log-level': 'info',
    'cluster-poll-ms': 200,
    ...extra,
  };
  return Object.entries(flags).flatMap(([k, v]) => (v === true ? [`--${k}`] : v === false ? [`--no-${k}`] : [`--${k}`, String(v)]));
}

/** The brokers' lease TTL unless a test asks for another: long enough that a stall of seconds expires nothing. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** For the brokers a test kills or pauses and whose lease it waits to expire. */
export const SHORT_LEASE_TTL_MS = 3000;

export function brokerFlags(infra: ClusterInfra, id: string, extra: Record<string, string | number | boolean> = {}): string[] {
  return commonFlags(infra, {
    'broker-id': id,
    'internal-host': '127.0.0.1',
    'kafka-port': 0,
    'internal-port': 0,
    'mqtt-internal-port': 0,
    'mqtt-port': 0,
    'ws-port': 0,
    storage: 's3',
    's3-bucket': infra.s3.bucket,
    's3-endpoint': infra.s3.endpoint,
    's3-region': 'us-east-1',
    's3-force-path-style': true,
    's3-prefix': 'cluster',
    's3-flush-ms': 20,
    // Healthy brokers must not lose their lease to a stalled test machine (they heartbeat every third of it to
    // dynalite in the test worker): tests that kill or pause a broker and wait for its lease to expire pass a
    // short TTL (SHORT_LEASE_TTL_MS) to that broker explicitly.
    'cluster-lease-ttl-ms': DEFAULT_LEASE_TTL_MS,
    'group-initial-rebalance-delay-ms': 0,
    ...extra,
  });
}

export interface Child {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Parsed JSON log lines so far. */
  readonly lines: Array<Record<string, unknown>>;
  readonly ports: Record<string, number>;
  readonly exited: Promise<number | null>;
  /** Resolves with the first log line (already seen or future) matching `test`. */
  waitFor(test: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns `robustmq <role> ...flags` and resolves once the line `readyMsg` is logged. */
export function spawnRole(role: 'broker' | 'meta', flags: string[], env: NodeJS.ProcessEnv, readyMsg: string, timeoutMs = 30_000): Promise<Child> {
  const child = spawn(process.execPath, [BIN, role, ...flags], { env: { ...process.env, ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const text of parts) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const waitFor = (test: (l: Record<string, unknown>) => boolean, ms = 30_000): Promise<Record<string, unknown>> => {
    const seen = lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${ms} ms from ${role}\n${stderr.slice(-2000)}`)), ms);
      waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`${role} exited with ${code} before it was ready\n${stderr.slice(-3000)}`));
    void exited.then(onExit);
    waitFor((l) => l.msg === readyMsg, timeoutMs).then(
      (line) => {
        const ports = (line.ports ?? { admin: line.port }) as Record<string, number>;
        resolve({ child, pid: child.pid!, lines, ports, exited, waitFor, kill: (signal = 'SIGTERM') => void child.kill(signal) });
      },
      (err: unknown) => {
        child.kill('SIGKILL');
        reject(err);
      },
    );
  });
}

export function startMeta(infra: ClusterInfra, extra: Record<string, string | number | boolean> = {}): Promise<Child> {
  return spawnRole('meta', commonFlags(infra, extra), infra.env, 'robustmq meta started');
}

export function startBrokerProcess(infra: ClusterInfra, id: string, extra: Record<string, string | number | boolean> = {}): Promise<Child> {
  return spawnRole('broker', brokerFlags(infra, id, extra), infra.env, 'cluster broker joined');
}

/** Round-robin TCP proxy over `backends()` (ports on 127.0.0.1); a refused backend is skipped. */
export class LoadBalancer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private next = 0;
  port = 0;

  constructor(private readonly backends: () => number[]) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.track(client);
    client.pause();
    const ports = this.backends();
    const tryAt = (attempt: number): void => {
      if (attempt >= ports.length || client.destroyed) return void client.destroy();
      const port = ports[(this.next + attempt) % ports.length];
      const upstream = net.connect({ host: '127.0.0.1', port });
      upstream.once('error', () => {
        upstream.destroy();
        tryAt(attempt + 1);
      });
      upstream.once('connect', () => {
        this.next = (this.next + attempt + 1) % Math.max(1, ports.length);
        upstream.removeAllListeners('error');
        this.track(upstream);
        const end = (): void => {
          client.destroy();
          upstream.destroy();
        };
        upstream.on('error', end).on('close', end);
        client.on('error', end).on('close', end);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryAt(0);
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }
}

export interface ClusterStatusNode {
  brokerId: string;
  id: number;
  state: string;
  partitions: number;
  led: Array<{ topic: string; partition: number; epoch: number }>;
}

export interface ClusterStatus {
  mode: string;
  nodes: ClusterStatusNode[];
  leaderless: Array<{ topic: string; partition: number }>;
}

export async function clusterStatus(adminPort: number, adminToken?: string): Promise<ClusterStatus> {
  const headers: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/cluster`, { headers, signal: AbortSignal.timeout(5000) });
  return (await res.json()) as ClusterStatus;
}

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
