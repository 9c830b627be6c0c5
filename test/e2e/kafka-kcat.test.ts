/**
 * librdkafka (kcat) against the broker: metadata, 10,000 keyed records over 3 partitions, every compression codec
 * passed through untouched, 1 MiB records, headers and null keys, the idempotent producer, offsets for times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compression, batchHeaders, compressionOf } from '../../runtime/storage/record-batch.js';
import { consumeAll, kcat } from '../helpers/kafka-kcat.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let port: number;

beforeAll(async () => {
  // Room for two 1 MiB records in one batch (a record with a 1 MiB value is 1 MiB + 74 bytes as a batch).
  node = await startTestNode({ defaultPartitions: 3, maxMessageBytes: 3 * 1024 * 1024 });
  port = node.ports.kafka;
});
afterAll(() => node.destroy());

/** Batch headers as stored, with their partition. */
async function storedBatches(topic: string) {
  const out = [];
  for (let p = 0; p < (node.context.topics.get(topic)?.partitions ?? 0); p++) {
    const read = await node.context.topics.partition(topic, p).read(0, 1 << 30);
    for (const chunk of read.chunks) for (const h of batchHeaders(chunk)) out.push({ ...h, partition: p });
  }
  return out;
}

describe('kcat', () => {
  it('lists the broker and topics (kcat -L)', async () => {
    await node.context.topics.create({ name: 'listed', partitions: 2 });
    const { stdout } = await kcat(port, ['-L', '-J']);
    const md = JSON.parse(stdout);
    expect(md.brokers).toEqual([{ id: 0, name: `127.0.0.1:${port}` }]);
    const listed = md.topics.find((t: { topic: string }) => t.topic === 'listed');
    expect(listed.partitions.map((p: { partition: number; leader: number }) => [p.partition, p.leader])).toEqual([[0, 0], [1, 0]]);
  });

  it('produces 10,000 keyed records to 3 partitions and reads them back complete and in order per partition', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `key-${i % 97}:${i}`).join('\n');
    await kcat(port, ['-P', '-t', 'bulk', '-K:'], `${lines}\n`);
    const got = await consumeAll(port, 'bulk');
    expect(got).toHaveLength(10_000);
    expect(new Set(got.map((m) => m.payload)).size).toBe(10_000);
    const partitions = new Set<number>();
    for (let p = 0; p < 3; p++) {
      const mine = got.filter((m) => m.partition === p);
      if (mine.length > 0) partitions.add(p);
      expect(mine.map((m) => m.offset)).toEqual(mine.map((_, i) => i));
      const seq = mine.map((m) => Number(m.payload));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      // one key always lands in one partition
      for (const m of mine) expect(got.filter((x) => x.key === m.key).every((x) => x.partition === p)).toBe(true);
    }
    expect(partitions.size).toBe(3);
  });

  it.each([
    ['gzip', Compression.Gzip],
    ['snappy', Compression.Snappy],
    ['lz4', Compression.Lz4],
    ['zstd', Compression.Zstd],
  ])('stores %s batches as sent and reads them back intact', async (codec, expected) => {
    const topic = `codec-${codec}`;
    const lines = Array.from({ length: 500 }, (_, i) => `${i}:${codec} payload ${i} ${'x'.repeat(i % 50)}`);
    await kcat(port, ['-P', '-t', topic, '-K:', '-z', codec], `${lines.join('\n')}\n`);
    // librdkafka sends a batch uncompressed when compressing does not make it smaller.
    const codecs = (await storedBatches(topic)).map((h) => compressionOf(h.attributes));
    expect(codecs).toContain(expected);
    expect(codecs.every((c) => c === expected || c === Compression.None)).toBe(true);
    const got = await consumeAll(port, topic);
    expect(got.map((m) => `${m.key}:${m.payload}`).sort()).toEqual([...lines].sort());
  });

  it('carries 1 MiB records', async () => {
    const big = (c: string) => c.repeat(1024 * 1024);
    await kcat(port, ['-P', '-t', 'huge', '-p', '0', '-X', 'message.max.bytes=3000000'], `${big('a')}\n${big('b')}\n`);
    const got = await consumeAll(port, 'huge', ['-p', '0']);
    expect(got.map((m) => [m.payload?.length, m.payload?.[0]])).toEqual([[1048576, 'a'], [1048576, 'b']]);
  });

  it('keeps headers, null keys and producer timestamps', async () => {
    await kcat(port, ['-P', '-t', 'hdrs', '-p', '1', '-K:', '-H', 'trace=abc', '-H', 'empty='], 'k1:with key\nno key here\n');
    const got = await consumeAll(port, 'hdrs', ['-p', '1']);
    expect(got.map((m) => [m.key, m.payload])).toEqual([['k1', 'with key'], [null, 'no key here']]);
    for (const m of got) {
      expect(m.headers).toEqual(['trace', 'abc', 'empty', '']);
      expect(m.tstype).toBe('create');
      expect(Math.abs(m.ts - Date.now())).toBeLessThan(60_000);
    }
  });

  it('runs the idempotent producer (enable.idempotence=true) without duplicates', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `${i % 10}:${i}`).join('\n');
    await kcat(port, ['-P', '-t', 'idem', '-K:', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'], `${lines}\n`);
    const got = await consumeAll(port, 'idem');
    expect(got).toHaveLength(3000);
    expect(new Set(got.map((m) => m.payload)).size).toBe(3000);
    const headers = await storedBatches('idem');
    expect(new Set(headers.map((h) => h.producerId)).size).toBe(1);
    expect(headers[0].producerId).toBeGreaterThanOrEqual(0);
    // Sequences are contiguous per partition: each batch starts where the previous one of its partition ended.
    for (let p = 0; p < 3; p++) {
      const mine = headers.filter((h) => h.partition === p);
      let next = 0;
      for (const h of mine) {
        expect(h.baseSequence).toBe(next);
        next += h.lastOffsetDelta + 1;
      }
    }
  });

  it('answers offsets for times (kcat -Q)', async () => {
    await node.context.topics.create({ name: 'when', partitions: 1 });
    await kcat(port, ['-P', '-t', 'when', '-p', '0'], 'early\n');
    await new Promise((r) => setTimeout(r, 30));
    const between = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    await kcat(port, ['-P', '-t', 'when', '-p', '0'], 'late\n');
    const { stdout } = await kcat(port, ['-Q', '-t', `when:0:${between}`]);
    expect(stdout.trim()).toBe('when [0] offset 1');
    const { stdout: future } = await kcat(port, ['-Q', '-t', `when:0:${Date.now() + 60_000}`]);
    expect(future.trim()).toBe('when [0] offset -1');
  });
});
