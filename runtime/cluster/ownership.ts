/**
 * Which broker owns a consumer group: rendezvous (highest-random-weight) hashing of the group id over the live
 * brokers that are not draining. Every broker computes the same owner from the same membership without writing
 * anything, and a broker joining or leaving moves only the groups it wins or held (about 1/n of them).
 * While two brokers briefly disagree about membership, a group may be served by two coordinators; members then
 * see a rebalance, and committed offsets (in the MetaStore) are unaffected.
 */
import { createHash } from 'node:crypto';
import type { BrokerLeaseValue } from './records.js';

function weight(key: string, brokerId: string): bigint {
  return createHash('sha256').update(key).update('\u0000').update(brokerId).digest().readBigUInt64BE(0);
}

export function ownerOf(key: string, brokers: readonly BrokerLeaseValue[]): BrokerLeaseValue | undefined {
  let best: BrokerLeaseValue | undefined;
  let bestWeight = -1n;
  for (const b of brokers) {
    if (b.draining) continue;
    const w = weight(key, b.id);
    if (w > bestWeight || (w === bestWeight && best !== undefined && b.id < best.id)) {
      best = b;
      bestWeight = w;
    }
  }
  return best;
}
