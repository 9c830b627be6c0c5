/**
 * MQTT suite: RobustMQ against Aedes and Mosquitto with one load generator, one broker at a time (a fresh broker
 * process per scenario), and a calibration run against a null endpoint that shows the generator's own ceiling.
 * Metric: messages per second delivered to subscribers; also published/s, broker CPU, and RSS with idle clients.
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { MQTT_BROKERS, startBroker, type BrokerName } from './lib/mqtt-brokers.js';
import type { ClientGroup } from './lib/mqtt-protocol.js';
import { runIdle, runScenario, type IdleMeasure, type RunTiming, type Scenario, type ScenarioMeasure } from './lib/mqtt-run.js';
import { buildTables, medianOf, ratioBlock, summarize, type SampleKey, type Target } from './lib/mqtt-report.js';
import { forkChild, nextMessage, stopChild } from './lib/proc.js';
import { formatBytes, formatCount, formatPercent } from './lib/stats.js';
import { errorMessage, type Suite, type SuiteOptions, type SuiteResult } from './lib/suite.js';

const PAYLOAD = 64;

const group = (role: ClientGroup['role'], count: number, prefix: string, topic: string, qos: 0 | 1, inflight = 0): ClientGroup => ({
  role,
  count,
  clientIdPrefix: prefix,
  topic,
  qos,
  payloadBytes: PAYLOAD,
  inflight,
});

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'fan-in-qos0',
    title: 'fan-in QoS 0 (8 pub -> 1 sub on bench/#)',
    groups: [group('sub', 1, 'fi-sub-', 'bench/#', 0), group('pub', 8, 'fi-pub-', 'bench/in/{i}', 0)],
    fanout: 1,
  },
  {
    id: 'fan-out-qos0',
    title: 'fan-out QoS 0 (1 pub -> 20 subs)',
    groups: [group('sub', 20, 'fo-sub-', 'bench/out', 0), group('pub', 1, 'fo-pub-', 'bench/out', 0)],
    fanout: 20,
  },
  {
    id: 'qos1',
    title: 'QoS 1 (4 pub x 100 in flight -> 1 sub)',
    groups: [group('sub', 1, 'q1-sub-', 'bench/#', 1), group('pub', 4, 'q1-pub-', 'bench/q1/{i}', 1, 100)],
    fanout: 1,
  },
];

function onlyRole(scenario: Scenario, pub: boolean): Scenario {
  return { ...scenario, groups: scenario.groups.filter((g) => (g.role === 'pub') === pub) };
}

async function withCalibrator<T>(fn: (port: number, pid: number) => Promise<T>): Promise<T> {
  const child: ChildProcess = forkChild('mqtt-calibrator.ts');
  try {
    const { port } = await nextMessage<{ type: string; port: number }>(child, 'listening');
    return await fn(port, child.pid ?? 0);
  } finally {
    await stopChild(child);
  }
}

async function measure(target: Target, scenario: Scenario, timing: RunTiming): Promise<ScenarioMeasure> {
  if (target === 'ceiling-pub' || target === 'ceiling-sub') {
    const part = onlyRole(scenario, target === 'ceiling-pub');
    return withCalibrator((port, pid) => runScenario(port, pid, part, timing));
  }
  const broker = await startBroker(target);
  try {
    if (target === 'robustmq' && !broker.port) throw new Error('MQTT listener not available (no mqtt port in node.ports)');
    return await runScenario(broker.port, broker.pid, scenario, timing, () => broker.stop());
  } finally {
    await broker.stop();
  }
}

async function measureIdle(target: BrokerName, clients: number): Promise<IdleMeasure> {
  const broker = await startBroker(target);
  try {
    if (target === 'robustmq' && !broker.port) throw new Error('MQTT listener not available (no mqtt port in node.ports)');
    return await runIdle(broker.port, broker.pid, clients);
  } finally {
    await broker.stop();
  }
}

function openFilesLimit(): number | null {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

export const mqttSuite: Suite = {
  name: 'mqtt',
  description: 'MQTT throughput and idle-connection memory: RobustMQ vs Aedes vs Mosquitto',
  async run(options: SuiteOptions): Promise<SuiteResult> {
    // --only names brokers and/or scenario ids; a kind not named is not filtered.
    const only = options.only ?? [];
    const brokers = MQTT_BROKERS.some((b) => only.includes(b)) ? MQTT_BROKERS.filter((b) => only.includes(b)) : MQTT_BROKERS;
    const scenarios = SCENARIOS.some((s) => only.includes(s.id)) ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS;
    const timing: RunTiming = {
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      generatorProcesses: options.generatorProcesses ?? 1,
    };
    const errors: string[] = [];
    const samples = new Map<SampleKey, ScenarioMeasure[]>();
    const key = (scenario: string, target: Target): SampleKey => `${scenario}/${target}`;
    const targets: Target[] = ['ceiling-pub', 'ceiling-sub', ...brokers];

    for (let r = 0; r < options.rounds; r++) {
      for (const scenario of scenarios) {
        // The generator's ceiling does not depend on the broker: once is enough.
        for (const target of r === 0 ? targets : brokers) {
          options.log(`mqtt round ${r + 1}/${options.rounds}: ${scenario.id} on ${target}`);
          try {
            const m = await measure(target, scenario, timing);
            if (m.malformed > 0) errors.push(`${scenario.id} on ${target}: ${m.malformed} malformed PUBLISH packets received`);
            const list = samples.get(key(scenario.id, target)) ?? [];
            list.push(m);
            samples.set(key(scenario.id, target), list);
            options.log(
              `  delivered ${formatCount(m.deliveredPerSec)}/s, published ${formatCount(m.publishedPerSec)}/s, ` +
                `CPU broker ${formatPercent(m.brokerCores)} generator ${formatPercent(m.generatorCores)}`,
            );
          } catch (err) {
            errors.push(`${scenario.id} on ${target}: ${errorMessage(err)}`);
            options.log(`  failed: ${errorMessage(err)}`);
          }
        }
      }
    }

    const limit = openFilesLimit();
    let idleClients = options.idleClients ?? (options.quick ? 1_000 : 10_000);
    if (limit !== null && idleClients + 200 > limit) {
      errors.push(`idle clients reduced from ${idleClients} to ${limit - 200}: ulimit -n is ${limit}`);
      idleClients = limit - 200;
    }
    const idle = new Map<BrokerName, IdleMeasure>();
    for (const broker of brokers) {
      options.log(`mqtt idle: ${idleClients} clients on ${broker}`);
      try {
        const m = await measureIdle(broker, idleClients);
        idle.set(broker, m);
        options.log(`  RSS ${formatBytes(m.rssBeforeBytes)} -> ${formatBytes(m.rssAfterBytes)}`);
      } catch (err) {
        errors.push(`idle ${idleClients} on ${broker}: ${errorMessage(err)}`);
        options.log(`  failed: ${errorMessage(err)}`);
      }
    }

    return {
      suite: 'mqtt',
      tables: buildTables({ scenarios, brokers, samples, idle, idleClients, timing, rounds: options.rounds, payloadBytes: PAYLOAD }),
      data: {
        timing,
        rounds: options.rounds,
        payloadBytes: PAYLOAD,
        openFilesLimit: limit,
        scenarios: scenarios.map((s) => ({
          id: s.id,
          title: s.title,
          results: Object.fromEntries(targets.map((t) => [t, summarize(samples.get(key(s.id, t)))])),
          ratios: ratioBlock(brokers, (b) => medianOf(samples.get(key(s.id, b)), (m) => m.deliveredPerSec)),
        })),
        idle: { clients: idleClients, results: Object.fromEntries(idle) },
      },
      errors,
    };
  },
};
