/** One Kafka measurement and the median across rounds of the same (client, op, size, acks). */
import { cpuMsPerMB, median, perSecond, ratio } from './stats.js';

export interface KafkaSample {
  readonly client: 'kcat' | 'kafkajs';
  readonly op: 'produce' | 'fetch';
  readonly size: number;
  readonly acks: '1' | 'all' | '-';
  readonly records: number;
  readonly payloadBytes: number;
  readonly wallMs: number;
  readonly brokerTicks: number;
  readonly note?: string;
}

export interface KafkaRow {
  readonly client: KafkaSample['client'];
  readonly op: KafkaSample['op'];
  readonly size: number;
  readonly acks: KafkaSample['acks'];
  readonly samples: number;
  readonly records: number;
  readonly recordsPerSec: number;
  readonly bytesPerSec: number;
  /** bytesPerSec / loopback ceiling. */
  readonly ofLoopback: number | null;
  readonly brokerCpuMsPerMB: number | null;
}

const keyOf = (s: KafkaSample): string => `${s.client}/${s.op}/${s.size}/${s.acks}`;

/** Groups samples in first-seen order; each figure is the median over the group. */
export function aggregate(samples: readonly KafkaSample[], loopbackBytesPerSec: number, ticksPerSecond: number): KafkaRow[] {
  const groups = new Map<string, KafkaSample[]>();
  for (const s of samples) groups.set(keyOf(s), [...(groups.get(keyOf(s)) ?? []), s]);
  return [...groups.values()].map((list) => {
    const first = list[0];
    const bytesPerSec = median(list.map((s) => perSecond(s.payloadBytes, s.wallMs))) ?? 0;
    return {
      client: first.client,
      op: first.op,
      size: first.size,
      acks: first.acks,
      samples: list.length,
      records: median(list.map((s) => s.records)) ?? 0,
      recordsPerSec: median(list.map((s) => perSecond(s.records, s.wallMs))) ?? 0,
      bytesPerSec,
      ofLoopback: ratio(bytesPerSec, loopbackBytesPerSec),
      brokerCpuMsPerMB: median(
        list.map((s) => cpuMsPerMB(s.brokerTicks, s.payloadBytes, ticksPerSecond)).filter((v): v is number => v !== null),
      ),
    };
  });
}
