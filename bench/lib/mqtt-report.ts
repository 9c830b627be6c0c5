/** Tables and JSON summaries for the MQTT suite: medians over rounds, RobustMQ ratios, the generator's ceiling. */
import type { BrokerName } from './mqtt-brokers.js';
import type { IdleMeasure, RunTiming, Scenario, ScenarioMeasure } from './mqtt-run.js';
import { formatBytes, formatCount, formatPercent, formatRatio, median, ratio, round } from './stats.js';
import type { Table } from './table.js';

/** 'ceiling-pub' / 'ceiling-sub': the scenario's publishers alone / subscribers alone against the null endpoint. */
export type Target = BrokerName | 'ceiling-pub' | 'ceiling-sub';
export type SampleKey = `${string}/${Target}`;

export interface ReportInput {
  readonly scenarios: readonly Scenario[];
  readonly brokers: readonly BrokerName[];
  readonly samples: ReadonlyMap<SampleKey, ScenarioMeasure[]>;
  readonly idle: ReadonlyMap<BrokerName, IdleMeasure>;
  readonly idleClients: number;
  readonly timing: RunTiming;
  readonly rounds: number;
  readonly payloadBytes: number;
}

/** Deliveries per second of broker CPU time. */
export const perCpuSecond = (m: ScenarioMeasure): number | null => ratio(m.deliveredPerSec, m.brokerCores);

export function medianOf(list: ScenarioMeasure[] | undefined, pick: (m: ScenarioMeasure) => number | null): number | null {
  const values = (list ?? []).map(pick).filter((v): v is number => v !== null);
  return median(values);
}

export function summarize(list: ScenarioMeasure[] | undefined): Record<string, unknown> | null {
  if (!list || list.length === 0) return null;
  return {
    deliveredPerSec: round(medianOf(list, (m) => m.deliveredPerSec), 0),
    publishedPerSec: round(medianOf(list, (m) => m.publishedPerSec), 0),
    ackedPerSec: round(medianOf(list, (m) => m.ackedPerSec), 0),
    deliveryRatio: round(medianOf(list, (m) => m.deliveryRatio)),
    brokerCores: round(medianOf(list, (m) => m.brokerCores)),
    generatorCores: round(medianOf(list, (m) => m.generatorCores)),
    deliveredPerCpuSecond: round(medianOf(list, perCpuSecond), 0),
    samples: list,
  };
}

export function ratioBlock(brokers: readonly BrokerName[], value: (b: BrokerName) => number | null): Record<string, number | null> {
  const rmq = brokers.includes('robustmq') ? value('robustmq') : null;
  return {
    robustmqToAedes: round(ratio(rmq, brokers.includes('aedes') ? value('aedes') : null)),
    robustmqToMosquitto: round(ratio(rmq, brokers.includes('mosquitto') ? value('mosquitto') : null)),
  };
}

export function buildTables(input: ReportInput): Table[] {
  const { scenarios, brokers, samples, idle, idleClients, timing, rounds } = input;
  const get = (scenario: string, target: Target) => samples.get(`${scenario}/${target}`);
  const delivered = (scenario: string, target: Target) => medianOf(get(scenario, target), (m) => m.deliveredPerSec);
  const throughput: Table = {
    title: `MQTT delivered msgs/s (${input.payloadBytes} B payloads, ${timing.durationMs / 1000} s window after ${timing.warmupMs / 1000} s warm-up, median of ${rounds})`,
    columns: ['scenario', ...brokers, 'RobustMQ/Aedes', 'RobustMQ/Mosquitto', 'gen. max pub/s', 'gen. max recv/s'],
    rows: scenarios.map((s) => {
      const r = ratioBlock(brokers, (b) => delivered(s.id, b));
      return [
        s.title,
        ...brokers.map((b) => formatCount(delivered(s.id, b))),
        formatRatio(r.robustmqToAedes),
        formatRatio(r.robustmqToMosquitto),
        formatCount(medianOf(get(s.id, 'ceiling-pub'), (m) => m.publishedPerSec)),
        formatCount(delivered(s.id, 'ceiling-sub')),
      ];
    }),
    notes: [
      'gen. max: the same generator against a null endpoint (not a broker) that discards publishes / floods',
      "subscribers; publishers alone, then subscribers alone. A broker figure near these is the generator's limit.",
    ],
  };
  const detail: Table = {
    title: 'MQTT detail per broker',
    columns: ['scenario', 'broker', 'published/s', 'delivered/s', 'delivered/expected', 'broker CPU', 'delivered/CPU-s', 'generator CPU', 'broker RSS', 'lost'],
    rows: scenarios.flatMap((s) =>
      brokers.map((b) => {
        const list = get(s.id, b);
        if (!list || list.length === 0) return [s.id, b, 'failed', '', '', '', '', '', '', ''];
        return [
          s.id,
          b,
          formatCount(medianOf(list, (m) => m.publishedPerSec)),
          formatCount(medianOf(list, (m) => m.deliveredPerSec)),
          formatPercent(medianOf(list, (m) => m.deliveryRatio)),
          formatPercent(medianOf(list, (m) => m.brokerCores)),
          formatCount(medianOf(list, perCpuSecond)),
          formatPercent(medianOf(list, (m) => m.generatorCores)),
          formatBytes(medianOf(list, (m) => m.brokerRssBytes)),
          String(Math.max(...list.map((m) => m.lostConnections))),
        ];
      }),
    ),
    notes: [
      'published/s counts messages handed to the kernel; socket buffers hold a backlog of a few MB, so within one',
      'window delivered/expected can pass 100%. CPU: 100% = one core. RSS at the end of the window.',
      'delivered/CPU-s: messages delivered per second of broker CPU, less sensitive to a busy machine than the rate.',
    ],
  };
  const rssRatio = (b: BrokerName) => ratio(idle.get('robustmq')?.rssAfterBytes, idle.get(b)?.rssAfterBytes);
  const memory: Table = {
    title: `MQTT broker RSS with ${idleClients} idle clients (one subscription each)`,
    columns: ['broker', 'connected', 'RSS before', 'RSS after', 'per client', 'setup time', 'RobustMQ RSS / this'],
    rows: brokers.map((b) => {
      const m = idle.get(b);
      if (!m) return [b, 'failed', '', '', '', '', ''];
      return [
        b,
        String(m.connected),
        formatBytes(m.rssBeforeBytes),
        formatBytes(m.rssAfterBytes),
        formatBytes(m.perClientBytes),
        `${(m.setupMs / 1000).toFixed(1)} s`,
        formatRatio(rssRatio(b)),
      ];
    }),
  };
  return [throughput, detail, memory];
}
