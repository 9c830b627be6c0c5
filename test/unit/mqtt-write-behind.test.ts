import { describe, expect, it } from 'vitest';
import { WriteBehind } from '../../runtime/core/mqtt/write-behind.js';
import { createLogger } from '../../runtime/logger.js';
import type { MetaStore, TransactOp } from '../../runtime/meta/store.js';

/** A MetaStore double that only records transactions (the write-behind uses nothing else). */
function recordingMeta(fail = false) {
  const transactions: TransactOp[][] = [];
  const meta = {
    transact: async (ops: TransactOp[]) => {
      transactions.push(ops);
      if (fail) throw new Error('store down');
    },
  } as unknown as MetaStore;
  return { meta, transactions };
}

describe('WriteBehind', () => {
  it('coalesces writes to one key and commits a turn of writes in one transaction', async () => {
    const { meta, transactions } = recordingMeta();
    const w = new WriteBehind(meta, createLogger('silent', { pretty: false }));
    const done = [w.put('sessions', 'a', 1), w.put('sessions', 'a', 2), w.delete('retained', 't'), w.put('sessions', 'b', 3)];
    await Promise.all(done);
    expect(transactions).toEqual([
      [
        { op: 'put', ns: 'sessions', key: 'a', value: 2 },
        { op: 'delete', ns: 'retained', key: 't' },
        { op: 'put', ns: 'sessions', key: 'b', value: 3 },
      ],
    ]);
  });

  it('keeps transactions within 100 ops and about 3 MiB', async () => {
    const { meta, transactions } = recordingMeta();
    const w = new WriteBehind(meta, createLogger('silent', { pretty: false }));
    const big = 'x'.repeat(1024 * 1024);
    await Promise.all([
      ...Array.from({ length: 250 }, (_, i) => w.put('mqtt-queue', `k${i}`, i)),
      ...Array.from({ length: 5 }, (_, i) => w.put('retained', `big${i}`, big)),
    ]);
    expect(transactions.map((t) => t.length)).toEqual([100, 100, 52, 2, 1]); // 50 small + 2 x 1 MiB, then 2 x 1 MiB, then 1
  });

  it('rejects the waiters of a batch that failed to commit', async () => {
    const { meta } = recordingMeta(true);
    const w = new WriteBehind(meta, createLogger('silent', { pretty: false }));
    await expect(w.put('sessions', 'a', 1)).rejects.toThrow('store down');
  });
});
