/** The bridge's key partitioner agrees with Kafka clients' default partitioner (kafkajs, Java), key for key. */
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../runtime/core/bridge/murmur2.js';

const kafkajs = Partitioners.DefaultPartitioner();

function kafkajsPartition(key: Buffer, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
  return kafkajs({ topic: 't', partitionMetadata: partitionMetadata as never, message: { key, value: null } });
}

describe('murmur2 partitioner', () => {
  it('matches the values of Kafka Utils.murmur2 for known inputs', () => {
    // From Kafka's UtilsTest.testMurmur2 ("21", "foobar", "a-little-bit-long-string", ...).
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, hash] of cases) expect(murmur2(Buffer.from(input))).toBe(hash);
  });

  it('picks the same partition as kafkajs for MQTT topic names and arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 })), fc.integer({ min: 1, max: 64 }), (raw, n) => {
        const key = typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw);
        expect(partitionForKey(key, n)).toBe(kafkajsPartition(key, n));
      }),
      { numRuns: 2000 },
    );
    expect(partitionForKey(Buffer.from('sensors/line1/temp'), 3)).toBe(kafkajsPartition(Buffer.from('sensors/line1/temp'), 3));
  });
});
