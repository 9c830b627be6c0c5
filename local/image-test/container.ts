/**
 * The broker container: started with host networking on free loopback ports and the image's default command, then
 * checked for what a deployment relies on: its own HEALTHCHECK turning healthy, a non-root process, and a clean,
 * quick stop on SIGTERM.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { Engine } from './engine.js';
import { sleep, tail, waitFor } from './exec.js';

export interface Ports {
  mqtt: number;
  kafka: number;
  ws: number;
  admin: number;
}

/** Ports free on 127.0.0.1 now, all distinct (each is held until all are found). */
export async function freePorts(): Promise<Ports> {
  const servers = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const [mqtt, kafka, ws, admin] = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return { mqtt, kafka, ws, admin };
}

export async function runBroker(engine: Engine, image: string, name: string, ports: Ports): Promise<void> {
  const env = {
    ROBUSTMQ_HOST: '127.0.0.1',
    ROBUSTMQ_MQTT_PORT: ports.mqtt,
    ROBUSTMQ_KAFKA_PORT: ports.kafka,
    ROBUSTMQ_WS_PORT: ports.ws,
    ROBUSTMQ_ADMIN_PORT: ports.admin,
  };
  const args = ['run', '-d', '--name', name, '--network', 'host'];
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  // Only the schedule is shortened, to find the change sooner: the test command is still the Dockerfile's.
  args.push('--health-interval', '1s', '--health-start-period', '60s', image);
  await engine.mustDocker(args, { timeoutMs: 60_000 });
}

async function inspect(engine: Engine, name: string, format: string): Promise<string> {
  const r = await engine.mustDocker(['inspect', '--format', format, name], { timeoutMs: 20_000 });
  return r.stdout.trim();
}

async function logs(engine: Engine, name: string): Promise<string> {
  const r = await engine.docker(['logs', name], { timeoutMs: 20_000 });
  return r.stdout + r.stderr;
}

/** Waits for Health.Status healthy; returns the health test that ran (which must be the image's own). */
export async function waitHealthy(engine: Engine, name: string, timeoutMs: number): Promise<string> {
  const test = JSON.parse(await inspect(engine, name, '{{json .Config.Healthcheck.Test}}')) as string[] | null;
  if (!test || !test.join(' ').includes('/healthz')) throw new Error(`the container's health test is not the Dockerfile's: ${JSON.stringify(test)}`);
  await waitFor('health status healthy', timeoutMs, 250, async () => {
    const [state, health] = (await inspect(engine, name, '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}')).split(' ');
    if (state !== 'running') throw new Error(`container ${state}:\n${tail(await logs(engine, name), 20)}`);
    if (health === 'unhealthy') {
      const last = await inspect(engine, name, '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}');
      throw new Error(`unhealthy: ${last}`);
    }
    return health === 'healthy' ? true : undefined;
  });
  return test.slice(1).join(' ');
}

async function exec(engine: Engine, name: string, cmd: string[]): Promise<string> {
  const r = await engine.mustDocker(['exec', name, ...cmd], { timeoutMs: 20_000 });
  return r.stdout.trim();
}

/** The broker process (PID 1) and `docker exec` both run as the image's `node` user, not root. */
export async function checkNonRoot(engine: Engine, name: string): Promise<string> {
  const configured = await inspect(engine, name, '{{.Config.User}}');
  const uid = await exec(engine, name, ['id', '-u']);
  const user = await exec(engine, name, ['id', '-un']);
  const status = await exec(engine, name, ['cat', '/proc/1/status']);
  const pid1Uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  const pid1Cmd = (await exec(engine, name, ['cat', '/proc/1/cmdline'])).split('\0').join(' ').trim();
  if (!pid1Uid) throw new Error(`no Uid line in /proc/1/status:\n${status}`);
  const pid1User = (await exec(engine, name, ['getent', 'passwd', pid1Uid[1]])).split(':')[0];
  const problems: string[] = [];
  if (uid === '0') problems.push('docker exec runs as uid 0');
  if (pid1Uid[1] === '0' || pid1Uid[2] === '0') problems.push(`PID 1 has uid ${pid1Uid[1]} (effective ${pid1Uid[2]})`);
  if (pid1User !== 'node' || user !== 'node') problems.push(`user is ${user}, PID 1's is ${pid1User}, expected node`);
  if (problems.length) throw new Error(problems.join('; '));
  return `USER ${configured}; docker exec id -u = ${uid} (${user}); PID 1 (${pid1Cmd}) Uid ${pid1Uid[1]} = ${pid1User}`;
}

export interface StopResult {
  seconds: number;
  detail: string;
}

/**
 * `docker stop` sends SIGTERM and waits up to `stopTimeoutS`; the broker must exit 0 well inside that (`budgetMs`:
 * its own --shutdown-timeout-ms is 10 s by default) and say in its log that it shut down.
 */
export async function stopCleanly(engine: Engine, name: string, stopTimeoutS: number, budgetMs: number): Promise<StopResult> {
  const began = Date.now();
  await engine.mustDocker(['stop', '-t', String(stopTimeoutS), name], { timeoutMs: (stopTimeoutS + 30) * 1000 });
  const ms = Date.now() - began;
  const [exitCode, oom] = (await inspect(engine, name, '{{.State.ExitCode}} {{.State.OOMKilled}}')).split(' ');
  // docker logs may lag the exit by a moment.
  let log = await logs(engine, name);
  for (let i = 0; i < 10 && !/shutting down/.test(log); i++) {
    await sleep(200);
    log = await logs(engine, name);
  }
  const problems: string[] = [];
  if (exitCode !== '0') problems.push(`exit code ${exitCode}${oom === 'true' ? ' (OOM killed)' : ''}`);
  if (ms > budgetMs) problems.push(`took ${ms} ms, budget ${budgetMs} ms of the ${stopTimeoutS} s stop timeout`);
  if (!/shutting down/.test(log) || !/SIGTERM/.test(log)) problems.push(`no "shutting down" on SIGTERM in the log:\n${tail(log, 10)}`);
  if (/shutdown timed out|shutdown failed/.test(log)) problems.push(`the log says:\n${tail(log, 10)}`);
  if (problems.length) throw new Error(problems.join('; '));
  const lastLines = tail(log, 3)
    .split('\n')
    .map((l) => summarize(l))
    .join(' | ');
  return { seconds: ms / 1000, detail: `exit 0 after ${(ms / 1000).toFixed(1)}s of ${stopTimeoutS}s; log: ${lastLines}` };
}

/** A pino JSON line as `msg` (with the signal when present), anything else as it is. */
function summarize(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: string; signal?: string };
    return o.signal ? `${o.msg} (${o.signal})` : (o.msg ?? line);
  } catch {
    return line;
  }
}

export async function brokerLog(engine: Engine, name: string): Promise<string> {
  return logs(engine, name);
}
