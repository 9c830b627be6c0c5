/** Measures loopback TCP throughput between two node processes: the ceiling Kafka figures are compared with. */
import { forkChild, nextMessage, sleep, stopChild } from './proc.js';
import { perSecond } from './stats.js';

interface Snapshot {
  type: 'snapshot';
  at: number;
  bytes: number;
}

async function snapshot(sink: ReturnType<typeof forkChild>): Promise<Snapshot> {
  const reply = nextMessage<Snapshot>(sink, 'snapshot', 10_000);
  sink.send({ type: 'snapshot' });
  return reply;
}

/** Bytes per second a node client can push to a node server over 127.0.0.1 with 64 KiB writes. */
export async function loopbackBytesPerSec(warmupMs: number, durationMs: number): Promise<number> {
  const sink = forkChild('loopback-peer.ts', ['sink']);
  let pump: ReturnType<typeof forkChild> | undefined;
  try {
    const { port } = await nextMessage<{ type: string; port: number }>(sink, 'listening');
    pump = forkChild('loopback-peer.ts', ['pump', String(port)]);
    await sleep(warmupMs);
    const a = await snapshot(sink);
    await sleep(durationMs);
    const b = await snapshot(sink);
    return perSecond(b.bytes - a.bytes, b.at - a.at);
  } finally {
    if (pump) await stopChild(pump);
    await stopChild(sink);
  }
}
