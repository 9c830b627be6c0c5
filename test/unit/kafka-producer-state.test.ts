/** Idempotent producer sequence checks (KIP-98) and their rebuild from the log after a restart. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionProducers, ProducerStates } from '../../protocols/kafka/producers/sequences.js';
import { allocateProducerId } from '../../protocols/kafka/producers/ids.js';
import { ErrorCode } from '../../protocols/kafka/errors.js';
import { encodeRecordBatch, readBatchHeader } from '../../runtime/storage/record-batch.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

function batch(producerId: number, epoch: number, seq: number, count = 1): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`r${seq + i}`) }));
  return encodeRecordBatch(records, { producerId, producerEpoch: epoch, baseSequence: seq, timestamp: 1 });
}

function stored(buf: Buffer, baseOffset: number) {
  buf.writeBigInt64BE(BigInt(baseOffset), 0);
  return readBatchHeader(buf);
}

describe('PartitionProducers', () => {
  it('accepts the next sequence, finds duplicates among the last five batches, refuses gaps', () => {
    const state = new PartitionProducers();
    expect(state.check(readBatchHeader(batch(1, 0, 0, 3)))).toEqual({ kind: 'append' });
    for (let i = 0; i < 6; i++) state.record(stored(batch(1, 0, i * 3, 3), 100 + i * 3));
    expect(state.check(readBatchHeader(batch(1, 0, 18, 2)))).toEqual({ kind: 'append' });
    expect(state.check(readBatchHeader(batch(1, 0, 15, 3)))).toEqual({ kind: 'duplicate', baseOffset: 115 });
    expect(state.check(readBatchHeader(batch(1, 0, 3, 3)))).toEqual({ kind: 'duplicate', baseOffset: 103 });
    // The oldest of six batches fell out of the cache: no longer a recognisable duplicate, so out of order.
    expect(state.check(readBatchHeader(batch(1, 0, 0, 3)))).toMatchObject({ kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(state.check(readBatchHeader(batch(1, 0, 20, 1)))).toMatchObject({ kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('fences older epochs and requires a newer epoch to start at sequence 0', () => {
    const state = new PartitionProducers();
    state.record(stored(batch(7, 2, 0), 0));
    expect(state.check(readBatchHeader(batch(7, 1, 1)))).toMatchObject({ kind: 'error', code: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(state.check(readBatchHeader(batch(7, 3, 5)))).toMatchObject({ kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(state.check(readBatchHeader(batch(7, 3, 0)))).toEqual({ kind: 'append' });
  });

  it('wraps sequences after 2^31-1', () => {
    const state = new PartitionProducers();
    state.record(stored(batch(3, 0, 2147483647), 9));
    expect(state.check(readBatchHeader(batch(3, 0, 0)))).toEqual({ kind: 'append' });
  });

  it('lets a producer with no known state start at any sequence', () => {
    expect(new PartitionProducers().check(readBatchHeader(batch(9, 0, 42)))).toEqual({ kind: 'append' });
  });
});

describe('ProducerStates over a real log', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startTestNode({}, { protocols: [] });
    await node.context.topics.create({ name: 'idem', partitions: 1 });
  });
  afterEach(() => node.destroy());

  it('rebuilds sequence state by scanning the log, as after a restart', async () => {
    const topics = node.context.topics;
    const first = new ProducerStates(topics);
    for (let seq = 0; seq < 3; seq++) {
      await first.withPartition('idem', 0, async (state) => {
        const b = batch(5, 0, seq * 2, 2);
        expect(state.check(readBatchHeader(b))).toEqual({ kind: 'append' });
        await topics.append('idem', 0, b);
        state.record(readBatchHeader(b));
      });
    }
    const fresh = new ProducerStates(topics);
    await fresh.withPartition('idem', 0, async (state) => {
      expect(state.check(readBatchHeader(batch(5, 0, 4, 2)))).toEqual({ kind: 'duplicate', baseOffset: 4 });
      expect(state.check(readBatchHeader(batch(5, 0, 6, 1)))).toEqual({ kind: 'append' });
      expect(state.check(readBatchHeader(batch(5, 0, 9, 1)))).toMatchObject({ kind: 'error', code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    });
  });

  it('runs one call at a time per partition', async () => {
    const states = new ProducerStates(node.context.topics);
    const order: string[] = [];
    const slow = states.withPartition('idem', 0, async () => {
      order.push('a-start');
      await new Promise((r) => setTimeout(r, 20));
      order.push('a-end');
    });
    const fast = states.withPartition('idem', 0, async () => void order.push('b'));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a-start', 'a-end', 'b']);
  });

  it('allocates unique producer ids from the MetaStore, also under concurrency', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => allocateProducerId(node.context.meta)));
    expect(new Set(ids).size).toBe(20);
    const entry = await node.context.meta.get<number>('producers', 'next-producer-id');
    expect(entry?.value).toBe(Math.max(...ids) + 1);
  });
});
