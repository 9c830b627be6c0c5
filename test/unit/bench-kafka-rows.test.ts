import { describe, expect, it } from 'vitest';
import { aggregate, type KafkaSample } from '../../bench/lib/kafka-rows.js';
import { parseEndOffset } from '../../bench/lib/kcat.js';

const sample = (wallMs: number, brokerTicks: number, acks: KafkaSample['acks'] = '1'): KafkaSample => ({
  client: 'kcat',
  op: 'produce',
  size: 100,
  acks,
  records: 1_000_000,
  payloadBytes: 100_000_000,
  wallMs,
  brokerTicks,
});

describe('bench Kafka rows', () => {
  it('takes the median per (client, op, size, acks) and relates it to the loopback ceiling', () => {
    // 100 MB in 1 s, 2 s, 4 s → median 50 MB/s; ticks 100, 50, 300 → median 100 ticks = 1 s CPU per 100 MB.
    const rows = aggregate([sample(1000, 100), sample(2000, 50), sample(4000, 300), sample(1000, 10, 'all')], 500_000_000, 100);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ acks: '1', samples: 3, recordsPerSec: 500_000, bytesPerSec: 50_000_000, ofLoopback: 0.1 });
    expect(rows[0].brokerCpuMsPerMB).toBe(10);
    expect(rows[1]).toMatchObject({ acks: 'all', samples: 1, bytesPerSec: 100_000_000 });
  });

  it("reads the offset kcat reached from its end-of-partition line", () => {
    expect(parseEndOffset('% Reached end of topic bench-kcat-100-1 [0] at offset 1000000: exiting\n')).toBe(1_000_000);
    expect(parseEndOffset('% ERROR: Local: Broker transport failure\n')).toBeNull();
  });
});
