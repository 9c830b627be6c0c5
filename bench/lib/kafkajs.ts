/** Drives the kafkajs worker process for one produce window or one full fetch. */
import { cpuTicks, forkChild, nextMessage, sleep, stopChild } from './proc.js';

export interface KafkajsRun {
  readonly records: number;
  readonly payloadBytes: number;
  readonly wallMs: number;
  readonly brokerTicks: number;
}

interface Base {
  readonly bootstrap: string;
  readonly topic: string;
  readonly size: number;
  readonly brokerPid: number;
}

/** Records acknowledged during `durationMs` after `warmupMs`, `concurrency` sends of `batch` records in flight. */
export async function kafkajsProduce(
  o: Base & { acks: 1 | -1; batch: number; concurrency: number; warmupMs: number; durationMs: number },
): Promise<KafkajsRun> {
  const config = { mode: 'produce', bootstrap: o.bootstrap, topic: o.topic, acks: o.acks, size: o.size, batch: o.batch, concurrency: o.concurrency };
  const child = forkChild('kafkajs-worker.ts', [JSON.stringify(config)], { KAFKAJS_NO_PARTITIONER_WARNING: '1' });
  try {
    await nextMessage(child, 'ready');
    // Rejects if the worker reports an error or dies; never resolves otherwise.
    const errored = nextMessage(child, 'never', o.warmupMs + o.durationMs + 30_000);
    errored.catch(() => undefined);
    const snap = async () => {
      const reply = Promise.race([nextMessage<{ type: string; at: number; records: number }>(child, 'snapshot', 10_000), errored]);
      child.send({ type: 'snapshot' });
      return reply as Promise<{ at: number; records: number }>;
    };
    child.send({ type: 'go' });
    await sleep(o.warmupMs);
    const cpu0 = cpuTicks(o.brokerPid);
    const a = await snap();
    await sleep(o.durationMs);
    const b = await snap();
    const brokerTicks = cpuTicks(o.brokerPid) - cpu0;
    const records = b.records - a.records;
    return { records, payloadBytes: records * o.size, wallMs: b.at - a.at, brokerTicks };
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    await stopChild(child);
  }
}

/** Time from the first fetched record to the `records`-th, with a fresh consumer group from the beginning. */
export async function kafkajsConsume(o: Base & { records: number; timeoutMs: number }): Promise<KafkajsRun & { joinMs: number }> {
  const config = { mode: 'consume', bootstrap: o.bootstrap, topic: o.topic, size: o.size, records: o.records };
  const child = forkChild('kafkajs-worker.ts', [JSON.stringify(config)], { KAFKAJS_NO_PARTITIONER_WARNING: '1' });
  try {
    await nextMessage(child, 'ready');
    const done = nextMessage<{ type: string; records: number; bytes: number; firstAt: number; lastAt: number; startedAt: number }>(
      child,
      'done',
      o.timeoutMs,
    );
    const cpu0 = cpuTicks(o.brokerPid);
    child.send({ type: 'go' });
    const d = await done;
    const brokerTicks = cpuTicks(o.brokerPid) - cpu0;
    return {
      records: d.records,
      payloadBytes: d.bytes,
      wallMs: d.lastAt - d.firstAt,
      brokerTicks,
      joinMs: d.firstAt - d.startedAt,
    };
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    await stopChild(child);
  }
}
