/** The Kafka cluster id: 16 random bytes in base64url (Kafka's Uuid form), created once and kept in the MetaStore. */
import { randomBytes } from 'node:crypto';
import { isRobustMQError } from '../../runtime/errors.js';
import type { MetaStore } from '../../runtime/meta/store.js';

const KEY = 'kafka-cluster-id';

export async function loadClusterId(meta: MetaStore): Promise<string> {
  const existing = await meta.get<string>('cluster', KEY);
  if (existing) return existing.value;
  const id = randomBytes(16).toString('base64url');
  try {
    await meta.put('cluster', KEY, id, { expectedVersion: 0 });
    return id;
  } catch (err) {
    if (!isRobustMQError(err, 'CONFLICT')) throw err;
    const winner = await meta.get<string>('cluster', KEY);
    if (!winner) throw err;
    return winner.value;
  }
}
