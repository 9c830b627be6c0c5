/**
 * Drives one scenario against one broker: fork the load generator(s), connect, publish for warm-up + window, and
 * read counters and the broker's CPU at the window's edges.
 */
import type { ChildProcess } from 'node:child_process';
import type { ClientGroup, ReadyMessage, SnapshotMessage } from './mqtt-protocol.js';
import { CLOCK_TICKS, cpuTicks, forkChild, nextMessage, rssBytes, sleep, stopChild } from './proc.js';
import { coreShare, perSecond } from './stats.js';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Subscriber groups first. */
  readonly groups: readonly ClientGroup[];
  /** Subscribers each published message should reach. */
  readonly fanout: number;
}

export interface ScenarioMeasure {
  readonly publishedPerSec: number;
  readonly deliveredPerSec: number;
  readonly ackedPerSec: number;
  /** delivered / (published × fanout): below 1 means the broker dropped or still queued messages. */
  readonly deliveryRatio: number | null;
  /** Broker CPU over the window, in cores (1.0 = one core busy). */
  readonly brokerCores: number | null;
  /** Busiest load-generator process over the window, in cores: near 1.0 means the generator is the limit. */
  readonly generatorCores: number | null;
  readonly brokerRssBytes: number;
  readonly lostConnections: number;
  /** Received PUBLISHes with a wrong topic or payload size (must be 0). */
  readonly malformed: number;
  readonly setupMs: number;
  readonly windowMs: number;
}

export interface RunTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** 1: every client in one generator process; 2: publishers and subscribers in separate processes. */
  readonly generatorProcesses: 1 | 2;
}

function splitGroups(groups: readonly ClientGroup[], processes: 1 | 2): ClientGroup[][] {
  if (processes === 1) return [[...groups]];
  return [groups.filter((g) => g.role !== 'pub'), groups.filter((g) => g.role === 'pub')].filter((g) => g.length > 0);
}

async function snapshotAll(workers: ChildProcess[]): Promise<SnapshotMessage[]> {
  const replies = workers.map((w) => nextMessage<SnapshotMessage>(w, 'snapshot', 10_000));
  for (const w of workers) w.send({ type: 'snapshot' });
  return Promise.all(replies);
}

/**
 * `stopBroker`, when given, runs right after the window closes and before the generator disconnects: a peer that
 * misbehaves when hundreds of thousands of queued messages meet a disconnect (Aedes overflows its stack) then
 * cannot disturb anything.
 */
export async function runScenario(
  port: number,
  brokerPid: number,
  scenario: Scenario,
  timing: RunTiming,
  stopBroker?: () => Promise<void>,
): Promise<ScenarioMeasure> {
  const workers = splitGroups(scenario.groups, timing.generatorProcesses).map((groups) => ({
    child: forkChild('mqtt-loadgen.ts'),
    groups,
  }));
  try {
    const readies = await Promise.all(
      workers.map(({ child, groups }) => {
        const ready = nextMessage<ReadyMessage>(child, 'ready', 120_000);
        child.send({ type: 'setup', port, groups, concurrency: 100 });
        return ready;
      }),
    );
    const children = workers.map((w) => w.child);
    for (const c of children) c.send({ type: 'go' });
    await sleep(timing.warmupMs);
    const pids = children.map((c) => c.pid ?? 0);
    const cpu0 = cpuTicks(brokerPid);
    const gen0 = pids.map(cpuTicks);
    const t0 = performance.now();
    const first = await snapshotAll(children);
    await sleep(timing.durationMs);
    const last = await snapshotAll(children);
    const cpu1 = cpuTicks(brokerPid);
    const gen1 = pids.map(cpuTicks);
    const t1 = performance.now();
    const rss = rssBytes(brokerPid);
    await stopBroker?.();
    let published = 0;
    let delivered = 0;
    let acked = 0;
    let lost = 0;
    let malformed = 0;
    let windowMs = 0;
    first.forEach((a, i) => {
      const b = last[i];
      const ms = b.at - a.at;
      published += perSecond(b.published - a.published, ms);
      delivered += perSecond(b.delivered - a.delivered, ms);
      acked += perSecond(b.acked - a.acked, ms);
      lost += b.lost;
      malformed += b.malformed;
      windowMs = Math.max(windowMs, ms);
    });
    return {
      publishedPerSec: published,
      deliveredPerSec: delivered,
      ackedPerSec: acked,
      deliveryRatio: published > 0 ? delivered / (published * scenario.fanout) : null,
      brokerCores: coreShare(cpu1 - cpu0, t1 - t0, CLOCK_TICKS),
      generatorCores: Math.max(...gen1.map((g, i) => coreShare(g - gen0[i], t1 - t0, CLOCK_TICKS) ?? 0)),
      brokerRssBytes: rss,
      lostConnections: lost,
      malformed,
      setupMs: Math.max(...readies.map((r) => r.setupMs)),
      windowMs,
    };
  } finally {
    for (const { child } of workers) {
      if (child.connected) child.send({ type: 'stop' });
      await stopChild(child, 2_000);
    }
  }
}

export interface IdleMeasure {
  readonly clients: number;
  readonly connected: number;
  readonly setupMs: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly perClientBytes: number;
}

/** Connects `clients` idle subscribers (one subscription each) from a child process and reads the broker's RSS. */
export async function runIdle(port: number, brokerPid: number, clients: number): Promise<IdleMeasure> {
  const rssBefore = rssBytes(brokerPid);
  const child = forkChild('mqtt-loadgen.ts');
  try {
    const ready = nextMessage<ReadyMessage>(child, 'ready', 300_000);
    const group: ClientGroup = {
      role: 'idle',
      count: clients,
      clientIdPrefix: 'idle-',
      topic: 'bench/idle/{i}',
      qos: 1,
      payloadBytes: 0,
      inflight: 0,
    };
    child.send({ type: 'setup', port, groups: [group], concurrency: 200 });
    const { connected, setupMs } = await ready;
    await sleep(2_000);
    const rssAfter = rssBytes(brokerPid);
    return {
      clients,
      connected,
      setupMs,
      rssBeforeBytes: rssBefore,
      rssAfterBytes: rssAfter,
      perClientBytes: (rssAfter - rssBefore) / Math.max(1, connected),
    };
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    await stopChild(child, 5_000);
  }
}
