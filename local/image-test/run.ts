/**
 * `npm run test:image`: builds local/Dockerfile for real and runs the image, as root on a Debian 12 machine.
 *
 *  1. installs docker.io, debootstrap, mosquitto-clients and kcat when missing;
 *  2. uses the Docker engine that answers, or starts a dockerd of its own (vfs, no iptables, no bridge);
 *  3. pulls node:24-bookworm-slim, or makes a stand-in base image when no image registry is reachable
 *     (base-image.ts; cached in ROBUSTMQ_IMAGE_TEST_CACHE, default /var/cache/robustmq-image-test);
 *  4. builds robustmq:test with BuildKit where a docker client here has it (builder.ts), with the machine's npm
 *     registry route (npm-config.ts);
 *  5. runs it on free loopback ports with host networking and checks: HEALTHCHECK healthy, MQTT QoS 1 through
 *     mosquitto_pub/sub, Kafka through kcat, a non-root process, and a clean quick stop on SIGTERM;
 *  6. removes what it made (container, images, its dockerd and that one's data), keeping the cache.
 *
 * Prints a PASS/FAIL line per check and the timings, and exits 1 on any failure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MADE_IMAGE, provideBaseImage, type BaseImage } from './base-image.js';
import { slowest, stepTimes } from './build-log.js';
import { chooseBuilder } from './builder.js';
import { kafkaRoundTrip, mqttRoundTrip } from './clients.js';
import { checkNonRoot, freePorts, runBroker, stopCleanly, waitHealthy, type Ports } from './container.js';
import { startEngine, type Engine } from './engine.js';
import { endAll, mustRun } from './exec.js';
import { installMissing } from './host.js';
import { buildArgs, readNpmRoute } from './npm-config.js';
import { Report } from './report.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = process.env.ROBUSTMQ_IMAGE_TEST_CACHE ?? '/var/cache/robustmq-image-test';
const IMAGE = 'robustmq:test';
const HEALTHY_WITHIN_MS = 120_000;
const STOP_TIMEOUT_S = 30;
/** The broker's own --shutdown-timeout-ms default: a stop that needs longer is not a clean one. */
const STOP_BUDGET_MS = 10_000;

const PLANNED = ['packages', 'engine', 'base image', 'build', 'healthy', 'mqtt', 'kafka', 'non-root', 'stop'] as const;
type Check = (typeof PLANNED)[number];

const seconds = (ms: number): number => ms / 1000;
const note = (line: string): void => console.log(`  · ${line}`);

class StepFailed extends Error {}

async function main(): Promise<number> {
  const began = Date.now();
  const report = new Report(PLANNED);
  if (process.getuid?.() !== 0) {
    report.fail('packages', 'run as root: the test installs packages, starts dockerd and debootstraps');
    report.finish(0);
    return 1;
  }
  const logDir = mkdtempSync(join(tmpdir(), 'robustmq-image-test-logs.'));
  const workDir = mkdtempSync('/var/tmp/robustmq-image-test.');
  let engine: Engine | undefined;
  let base: BaseImage | undefined;
  let container: string | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`${signal}: ending the running commands, then cleaning up (again to exit at once)`);
    void endAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  /** A step the next ones need: its failure ends the run (the remaining checks are reported as not run). */
  const step = async <T>(name: Check, body: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    try {
      const { value, detail } = await body();
      report.pass(name, detail);
      return value;
    } catch (err) {
      report.fail(name, err instanceof Error ? err.message : String(err));
      throw new StepFailed(name);
    }
  };
  /** A check the others do not depend on. */
  const check = async (name: Check, body: () => Promise<string>): Promise<void> => {
    try {
      report.pass(name, await body());
    } catch (err) {
      report.fail(name, err instanceof Error ? err.message : String(err));
    }
  };

  try {
    await step('packages', async () => {
      const t = Date.now();
      const installed = await installMissing();
      if (installed.length) report.time('packages', seconds(Date.now() - t), `apt-get install ${installed.join(' ')}`);
      return { value: undefined, detail: installed.length ? `installed ${installed.join(', ')}` : 'all present' };
    });
    engine = await step('engine', async () => {
      const t = Date.now();
      const e = await startEngine(logDir, note);
      report.time('engine start', seconds(Date.now() - t), e.own ? 'own dockerd' : 'existing engine');
      const which = e.own ? 'own dockerd (vfs)' : `existing engine at ${e.env.DOCKER_HOST ?? 'the default socket'}`;
      return { value: e, detail: `Docker ${e.version}, ${which}` };
    });
    const route = await readNpmRoute();
    const proxies = Object.keys(route.proxies);
    note(`npm registry ${route.registry}, ${proxies.length ? `proxies ${proxies.join(' ')}` : 'no proxy'}${route.caFile ? `, cafile ${route.caFile}` : ''}`);
    base = await step('base image', async () => {
      const t = Date.now();
      const b = await provideBaseImage({ engine: engine!, cacheDir: CACHE, workDir, logDir, route, log: note });
      const parts = Object.entries(b.parts).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ');
      report.time(b.made ? 'base image make' : 'base image pull', seconds(Date.now() - t), parts);
      return { value: b, detail: `${b.ref}${b.notes.length ? ` (${b.notes.join('; ')})` : ''}` };
    });
    await step('build', async () => {
      const builder = await chooseBuilder(engine!.env);
      const args = ['build', ...builder.flags, '--network', 'host'];
      if (base!.made) args.push('--build-arg', `NODE_IMAGE=${base!.ref}`);
      args.push(...buildArgs(route), '-f', 'local/Dockerfile', '-t', IMAGE, '.');
      const logFile = join(logDir, 'build.log');
      note(`${builder.name}: ${builder.client} ${args.join(' ')} (log ${logFile})`);
      const r = await mustRun(builder.client, args, {
        timeoutMs: 30 * 60_000,
        cwd: REPO,
        env: { ...engine!.env, ...builder.env },
        logFile,
        logTimes: true,
      });
      report.time('build', seconds(r.ms), `${builder.name}; slowest: ${slowest(stepTimes(readFileSync(logFile, 'utf8'), seconds(r.ms)), 4)}`);
      const size = await engine!.mustDocker(['image', 'inspect', '--format', '{{.Size}}', IMAGE], { timeoutMs: 20_000 });
      return { value: undefined, detail: `${IMAGE}, ${(Number(size.stdout) / 1e6).toFixed(0)} MB, ${builder.name}, in ${seconds(r.ms).toFixed(1)}s` };
    });

    const ports: Ports = await freePorts();
    container = `robustmq-image-test-${process.pid}`;
    note(`ports: mqtt ${ports.mqtt}, kafka ${ports.kafka}, ws ${ports.ws}, admin ${ports.admin}`);
    await step('healthy', async () => {
      const t = Date.now();
      await runBroker(engine!, IMAGE, container!, ports);
      const test = await waitHealthy(engine!, container!, HEALTHY_WITHIN_MS);
      const ms = Date.now() - t;
      report.time('start to healthy', seconds(ms));
      return { value: undefined, detail: `healthy ${seconds(ms).toFixed(1)}s after docker run; the image's test ran: ${test.slice(0, 80)}…` };
    });
    await check('mqtt', () => mqttRoundTrip(ports.mqtt));
    await check('kafka', () => kafkaRoundTrip(ports.kafka));
    await check('non-root', () => checkNonRoot(engine!, container!));
    await check('stop', async () => {
      const r = await stopCleanly(engine!, container!, STOP_TIMEOUT_S, STOP_BUDGET_MS);
      report.time('stop', r.seconds);
      return r.detail;
    });
  } catch (err) {
    if (!(err instanceof StepFailed)) report.fail('run', `unexpected: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    const t = Date.now();
    await cleanUp(engine, container, base);
    rmSync(workDir, { recursive: true, force: true });
    report.time('clean up', seconds(Date.now() - t));
  }
  report.finish(seconds(Date.now() - began));
  if (report.failed === 0) rmSync(logDir, { recursive: true, force: true });
  else console.log(`logs kept in ${logDir}`);
  return report.failed === 0 && !interrupted ? 0 : 1;
}

/** Everything the run made except the cache: with its own dockerd, stopping it and removing its data root does it. */
async function cleanUp(engine: Engine | undefined, container: string | undefined, base: BaseImage | undefined): Promise<void> {
  if (!engine) return;
  if (container) await engine.docker(['rm', '-f', '-v', container], { timeoutMs: 60_000 });
  if (engine.own) {
    await engine.stop();
    return;
  }
  const images = [IMAGE, ...(base?.made ? [MADE_IMAGE] : [])];
  await engine.docker(['rmi', ...images], { timeoutMs: 120_000 });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
