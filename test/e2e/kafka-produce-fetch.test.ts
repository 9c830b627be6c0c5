/**
 * Produce, Fetch and ListOffsets semantics at the wire level: per-partition errors, idempotent sequences, long-poll
 * wake-up, byte limits, offsets by time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch, readBatchHeader, type RecordInput } from '../../runtime/storage/record-batch.js';
import { RawKafka } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const PRODUCE = 0;
const FETCH = 1;
const LIST_OFFSETS = 2;
const INIT_PRODUCER_ID = 22;

let node: TestNode;
let conn: RawKafka;

beforeAll(async () => {
  node = await startTestNode({ defaultPartitions: 1, maxMessageBytes: 64 * 1024 });
  conn = await RawKafka.connect(node.ports.kafka);
  await node.context.topics.create({ name: 'pf', partitions: 2 });
});
afterAll(async () => {
  conn.close();
  await node.destroy();
});

const values = (n: number, prefix = 'v'): RecordInput[] => Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`${prefix}${i}`) }));

async function produce(topic: string, partition: number, records: Buffer, version = 9, extra: Record<string, unknown> = {}) {
  const res = await conn.request(PRODUCE, version, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    ...extra,
  });
  return res.responses[0].partitionResponses[0];
}

function fetchBody(topic: string, parts: Array<{ partition: number; offset: number; max?: number }>, opts: Record<string, number> = {}) {
  return {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 1,
    maxBytes: opts.maxBytes ?? 1 << 24,
    isolationLevel: 0,
    sessionId: opts.sessionId ?? 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: parts.map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: p.max ?? 1 << 20 })) }],
  };
}

describe('Produce', () => {
  it('assigns consecutive offsets and stores the batch as sent (v3 and v9)', async () => {
    const first = await produce('pf', 0, encodeRecordBatch(values(3)), 3);
    const second = await produce('pf', 0, encodeRecordBatch(values(2)), 9);
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(second).toMatchObject({ errorCode: 0, baseOffset: 3, logStartOffset: 0, errorMessage: null });
  });

  it('answers CORRUPT_MESSAGE for a bad CRC, UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE', async () => {
    const bad = encodeRecordBatch(values(1));
    bad[bad.length - 1] ^= 0xff;
    expect(await produce('pf', 0, bad)).toMatchObject({ errorCode: 2, errorMessage: expect.stringMatching(/CRC/) });
    expect(await produce('pf', 7, encodeRecordBatch(values(1)))).toMatchObject({ errorCode: 3 });
    const big = encodeRecordBatch([{ value: Buffer.alloc(100 * 1024, 1) }]);
    expect(await produce('pf', 1, big)).toMatchObject({ errorCode: 10 });
    const magic3 = encodeRecordBatch(values(1));
    magic3[16] = 3;
    expect(await produce('pf', 1, magic3)).toMatchObject({ errorCode: 2, errorMessage: expect.stringMatching(/magic 3/) });
    const counted = encodeRecordBatch(values(2));
    expect(await produce('pf', 1, counted.subarray(0, counted.length - 3))).toMatchObject({ errorCode: 2 });
    expect(node.context.topics.partition('pf', 1).highWatermark()).toBe(0);
  });

  it('refuses the old message formats (magic 0/1) with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const old = encodeRecordBatch(values(1));
    old[16] = 1;
    expect(await produce('pf', 1, old, 2)).toMatchObject({ errorCode: 43 });
  });

  it('auto-creates the topic of a Produce', async () => {
    expect(await produce('made-by-produce', 0, encodeRecordBatch(values(1)))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(node.context.topics.get('made-by-produce')?.partitions).toBe(1);
  });

  it('refuses transactional produce with a clear error instead of hanging', async () => {
    const res = await produce('pf', 1, encodeRecordBatch(values(1)), 9, { transactionalId: 'tx-1' });
    expect(res).toMatchObject({ errorCode: 53, errorMessage: expect.stringMatching(/transactions are not supported/) });
    const init = await conn.request(INIT_PRODUCER_ID, 4, { transactionalId: 'tx-1', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
    expect(init.errorCode).toBe(53);
  });

  it('dedupes a retried idempotent batch with its original offset and refuses a sequence gap', async () => {
    const init = await conn.request(INIT_PRODUCER_ID, 4, { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
    expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const pid = init.producerId;
    const batch = (seq: number, n: number) => encodeRecordBatch(values(n, `s${seq}-`), { producerId: pid, producerEpoch: 0, baseSequence: seq });
    const a = await produce('pf', 1, batch(0, 2));
    const b = await produce('pf', 1, batch(2, 3));
    const retry = await produce('pf', 1, batch(2, 3));
    expect(retry).toMatchObject({ errorCode: 0, baseOffset: b.baseOffset });
    expect(b.baseOffset).toBe(a.baseOffset + 2);
    const gap = await produce('pf', 1, batch(9, 1));
    expect(gap.errorCode).toBe(45);
    expect(node.context.topics.partition('pf', 1).highWatermark()).toBe(5);
    const next = await conn.request(INIT_PRODUCER_ID, 0, { transactionalId: null, transactionTimeoutMs: 1000 });
    expect(next.producerId).toBeGreaterThan(pid);
  });
});

describe('Fetch', () => {
  it('returns stored batches with high watermark, last stable offset and log start offset (v4 and v12)', async () => {
    for (const v of [4, 12]) {
      const res = await conn.request(FETCH, v, fetchBody('pf', [{ partition: 0, offset: 3 }]));
      const p = res.responses[0].partitions[0];
      expect(p).toMatchObject({ errorCode: 0, highWatermark: 5, lastStableOffset: 5, logStartOffset: v >= 5 ? 0 : -1 });
      const records = Buffer.concat(Array.isArray(p.records) ? p.records : [p.records]);
      expect(readBatchHeader(records).baseOffset).toBe(3);
      if (v >= 7) expect(res).toMatchObject({ errorCode: 0, sessionId: 0 });
    }
  });

  it('tells Fetch v0-3 clients that it cannot convert to their message format', async () => {
    const res = await conn.request(FETCH, 3, fetchBody('pf', [{ partition: 0, offset: 0 }, { partition: 9, offset: 0 }], { maxWaitMs: 5000 }));
    expect(res.responses[0].partitions.map((p: { errorCode: number }) => p.errorCode)).toEqual([43, 3]);
    expect(res.responses[0].partitions[0].highWatermark).toBe(5);
  });

  it('answers OFFSET_OUT_OF_RANGE beyond the high watermark and FETCH_SESSION_ID_NOT_FOUND for a session', async () => {
    const res = await conn.request(FETCH, 11, fetchBody('pf', [{ partition: 0, offset: 99 }]));
    expect(res.responses[0].partitions[0]).toMatchObject({ errorCode: 1, highWatermark: 5 });
    const session = await conn.request(FETCH, 11, fetchBody('pf', [{ partition: 0, offset: 0 }], { sessionId: 1234 }));
    expect(session.errorCode).toBe(70);
  });

  it('always returns at least one whole batch, and nothing more past max_bytes', async () => {
    await node.context.topics.create({ name: 'limits', partitions: 2 });
    const big = encodeRecordBatch([{ value: Buffer.alloc(5000, 2) }]);
    await produce('limits', 0, Buffer.from(big));
    await produce('limits', 0, Buffer.from(big));
    await produce('limits', 1, Buffer.from(big));
    const res = await conn.request(FETCH, 11, fetchBody('limits', [{ partition: 0, offset: 0, max: 100 }, { partition: 1, offset: 0 }], { maxBytes: 1000 }));
    const [p0, p1] = res.responses[0].partitions;
    expect(p0.records.length).toBe(big.length);
    expect(p1).toMatchObject({ errorCode: 0, highWatermark: 1 });
    expect(p1.records.length).toBe(0);
  });

  it('long-polls until an append wakes it', async () => {
    await node.context.topics.create({ name: 'wake', partitions: 1 });
    const started = Date.now();
    const pending = conn.request(FETCH, 12, fetchBody('wake', [{ partition: 0, offset: 0 }], { maxWaitMs: 10_000 }), 15_000);
    setTimeout(() => void node.context.topics.append('wake', 0, encodeRecordBatch(values(1))), 150);
    const res = await pending;
    const waited = Date.now() - started;
    expect(res.responses[0].partitions[0].highWatermark).toBe(1);
    expect(res.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(waited).toBeLessThan(3000);
  });

  it('waits max_wait_ms when min_bytes is not reached', async () => {
    const started = Date.now();
    const res = await conn.request(FETCH, 12, fetchBody('wake', [{ partition: 0, offset: 1 }], { maxWaitMs: 200 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(res.responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1 });
  });
});

describe('ListOffsets', () => {
  it('finds earliest, latest, max timestamp and offsets for times', async () => {
    await node.context.topics.create({ name: 'times', partitions: 1 });
    for (const ts of [1000, 5000, 3000]) await produce('times', 0, encodeRecordBatch([{ value: Buffer.from(String(ts)), timestamp: ts }]));
    const ask = async (timestamp: number, version = 7) => {
      const res = await conn.request(LIST_OFFSETS, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'times', partitions: [{ partitionIndex: 0, timestamp, currentLeaderEpoch: -1 }] }] });
      return res.topics[0].partitions[0];
    };
    expect(await ask(-2)).toMatchObject({ errorCode: 0, offset: 0 });
    expect(await ask(-1)).toMatchObject({ errorCode: 0, offset: 3 });
    expect(await ask(-3)).toMatchObject({ errorCode: 0, offset: 1, timestamp: 5000 });
    expect(await ask(2000)).toMatchObject({ errorCode: 0, offset: 1, timestamp: 5000 });
    expect(await ask(999)).toMatchObject({ offset: 0, timestamp: 1000 });
    expect(await ask(6000)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 });
    expect(await ask(-1, 0)).toMatchObject({ errorCode: 0, oldStyleOffsets: [3] });
  });
});
