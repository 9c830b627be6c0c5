import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';
import { pastExpiry, recorder, sleep, waitFor } from '../conformance/meta-suite-helpers.js';

const POLL_MS = 20;

let dynamo: Dynalite;
let a: DynamoMetaStore;
let b: DynamoMetaStore;
let prefix = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());

// Two stores on one table stand for two brokers.
beforeEach(async () => {
  const options = { endpoint: dynamo.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, tablePrefix: `watch${++prefix}`, pollMs: POLL_MS };
  [a, b] = await Promise.all([DynamoMetaStore.open(options), DynamoMetaStore.open(options)]);
});
afterEach(async () => {
  await a.close();
  await b.close();
});

const queries = () => dynamo.requests.get('Query') ?? 0;

/** Waits until `n` more polls have started, so at least `n - 1` have completed. */
async function polls(n: number): Promise<void> {
  const start = queries();
  await waitFor(() => queries() >= start + n, `${n} polls`);
}

describe('DynamoDB meta watch across processes', () => {
  it("delivers another broker's puts and deletes, with their entries, by polling", async () => {
    await a.put('partitions', 'before', 0);
    const rec = recorder(b, 'partitions');
    await polls(2); // the first poll only learns what exists
    await a.put('partitions', 'p0', { leader: 1 });
    await waitFor(() => rec.changes.length === 1, 'the put');
    expect(rec.changes[0]).toEqual({ type: 'put', ns: 'partitions', key: 'p0', entry: { ns: 'partitions', key: 'p0', value: { leader: 1 }, version: 1 } });
    await a.put('partitions', 'p0', { leader: 2 }, { expectedVersion: 1 });
    await waitFor(() => rec.changes.length === 2, 'the update');
    expect(rec.changes[1]).toMatchObject({ type: 'put', entry: { value: { leader: 2 }, version: 2 } });
    await a.delete('partitions', 'p0');
    await waitFor(() => rec.changes.length === 3, 'the delete');
    expect(rec.changes[2]).toEqual({ type: 'delete', ns: 'partitions', key: 'p0' });
    await a.transact([
      { op: 'put', ns: 'partitions', key: 'p1', value: 1 },
      { op: 'delete', ns: 'partitions', key: 'before' },
    ]);
    await waitFor(() => rec.changes.length === 5, 'the transaction');
    expect(rec.keys().slice(3).sort()).toEqual(['delete:before', 'put:p1']);
    rec.stop();
  });

  it('delivers its own writes once, not again when a poll sees them', async () => {
    const rec = recorder(b, 'groups');
    for (let i = 0; i < 5; i++) await b.put('groups', `g${i % 2}`, i);
    await b.delete('groups', 'g0');
    await polls(3);
    expect(rec.keys()).toEqual(['put:g0', 'put:g1', 'put:g0', 'put:g1', 'put:g0', 'delete:g0']);
    expect(rec.changes.map((c) => c.entry?.version)).toEqual([1, 1, 2, 2, 3, undefined]);
    rec.stop();
  });

  it('reports a local write that races the first poll of a new watch, once', async () => {
    for (let i = 0; i < 20; i++) {
      const rec = recorder(b, 'acls');
      await Promise.all([b.put('acls', `k${i}`, i), b.put('acls', `other${i}`, i)]);
      expect(rec.keys().sort()).toEqual([`put:k${i}`, `put:other${i}`]);
      if (i % 5 === 0) {
        await polls(2);
        expect(rec.changes).toHaveLength(2);
      }
      rec.stop();
    }
  });

  it("reports another broker's lease once, and not its expiry", async () => {
    const rec = recorder(b, 'brokers');
    await polls(2);
    // Long enough that b's poll sees the lease before it expires, even on a loaded machine.
    const lease = await a.put('brokers', 'b1', { host: 'h' }, { ttlMs: 2_000 });
    await waitFor(() => rec.changes.length === 1, 'the lease');
    expect(lease.expiresAt).toBeLessThanOrEqual(Date.now() + 2_000);
    await pastExpiry(lease.expiresAt);
    await polls(3); // at least two whole polls after the expiry: neither may report it
    expect(rec.keys()).toEqual(['put:b1']);
    expect(await b.get('brokers', 'b1')).toBeUndefined();
    rec.stop();
  });

  it('polls a namespace only while it has watchers', async () => {
    await sleep(POLL_MS * 3);
    const idle = queries();
    await sleep(POLL_MS * 5);
    expect(queries()).toBe(idle);
    const first = b.watch('sessions', () => undefined);
    const second = b.watch('sessions', () => undefined);
    await polls(3);
    first();
    await polls(3);
    second();
    await sleep(POLL_MS * 5);
    const stopped = queries();
    await sleep(POLL_MS * 5);
    expect(queries()).toBe(stopped);
  });
});
