/**
 * Kafka's key partitioner: murmur2 (seed 0x9747b28c) of the key bytes, made positive by masking the sign bit,
 * modulo the partition count. It is what the Java client's and kafkajs's default partitioners compute, and
 * librdkafka's `murmur2_random` (kcat: `-X partitioner=murmur2_random`), so a device's MQTT messages and a Kafka
 * client's records with the same key land in the same partition.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka `Utils.murmur2`: a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[whole + 2] << 16;
    // falls through
    case 2:
      h ^= data[whole + 1] << 8;
    // falls through
    case 1:
      h ^= data[whole];
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
