/**
 * Producer id allocation for idempotent producers (KIP-98): a counter in the MetaStore 'producers' namespace,
 * advanced with compare-and-set, so ids stay unique across restarts and across brokers sharing the store.
 */
import { isRobustMQError, RobustMQError } from '../../../runtime/errors.js';
import type { MetaStore } from '../../../runtime/meta/store.js';

const KEY = 'next-producer-id';
const MAX_ATTEMPTS = 20;

export async function allocateProducerId(meta: MetaStore): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await meta.get<number>('producers', KEY);
    const id = current?.value ?? 0;
    try {
      await meta.put('producers', KEY, id + 1, { expectedVersion: current?.version ?? 0 });
      return id;
    } catch (err) {
      if (!isRobustMQError(err, 'CONFLICT')) throw err;
    }
  }
  throw new RobustMQError('CONFLICT', 'could not allocate a producer id: too much contention');
}
