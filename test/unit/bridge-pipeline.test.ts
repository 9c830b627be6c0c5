/**
 * TopicBridge over a real TopicManager (memory engine, segment where buffers are reused): MQTT claims are appended
 * in per-partition batches and delivered after their append, in order — QoS 0 as it arrives, without overtaking
 * anything in the log; appends wait for each other (group commit); publishers are held back
 * while too much waits; failures reach the publisher; Kafka batches (compressed or not, or missed) are delivered
 * in offset order; the log reads back as messages for resuming sessions.
 */
import { gzipSync } from 'node:zlib';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HIGH_WATER_BYTES } from '../../runtime/core/bridge/appender.js';
import { TopicBridge } from '../../runtime/core/bridge/bridge.js';
import { partitionForKey } from '../../runtime/core/bridge/murmur2.js';
import { createMessage, type MqttMessage, type QoS } from '../../runtime/core/mqtt/message.js';
import { TopicManager } from '../../runtime/core/topics.js';
import { createLogger } from '../../runtime/logger.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { PartitionLog } from '../../runtime/storage/engine.js';
import { MemoryStorageEngine } from '../../runtime/storage/memory/engine.js';
import { SegmentStorageEngine } from '../../runtime/storage/segment/engine.js';
import { BATCH_HEADER_SIZE, BATCH_LOG_OVERHEAD, Compression, batchHeaders, encodeRecordBatch } from '../../runtime/storage/record-batch.js';
import { tempDir } from '../helpers/node.js';

let dir: string;
let meta: EmbeddedMetaStore;
let topics: TopicManager;
let bridge: TopicBridge;
let segment: SegmentStorageEngine;
let got: Array<{ msg: MqttMessage; topic: string; partition: number }>;

beforeEach(async () => {
  dir = await tempDir('robustmq-bridge-');
  meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
  const log = createLogger('silent', { pretty: false });
  const defaults = { storage: 'memory' as const, partitions: 1, retentionMs: -1, retentionBytes: -1, maxBatchBytes: 1_049_600 };
  segment = new SegmentStorageEngine({ dataDir: path.join(dir, 'logs'), flush: { mode: 'always' } });
  topics = new TopicManager(meta, { memory: new MemoryStorageEngine(), segment }, defaults, undefined, log);
  await topics.start();
  bridge = new TopicBridge(topics, log);
  bridge.start();
  got = [];
  bridge.attach({ deliver: (msg, topic, partition) => void got.push({ msg, topic, partition }) });
});

afterEach(async () => {
  await bridge.close();
  await topics.close();
  await segment.close();
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

const mqtt = (topic: string, payload: string | Buffer, qos: QoS = 1): MqttMessage =>
  createMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, qos, false, { origin: 'c1' });

function batchesOf(log: PartitionLog): Promise<number[]> {
  return log.read(0, 1 << 30).then((r) => r.chunks.flatMap((c) => [...batchHeaders(c)].map((h) => h.recordCount)));
}

/** Holds a partition's appends until released. */
function hold(log: PartitionLog): { release(): void; calls: () => number } {
  const original = log.append.bind(log);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let calls = 0;
  log.append = async (b) => {
    calls++;
    await gate;
    return original(b);
  };
  return { release: () => open(), calls: () => calls };
}

/** Makes a partition's appends fail ("disk full") until the returned function is called. */
function failAppends(log: PartitionLog): () => void {
  const original = log.append.bind(log);
  log.append = async () => {
    throw new Error('disk full');
  };
  return () => {
    log.append = original;
  };
}

describe('TopicBridge', () => {
  it('appends a same-turn burst as one batch per partition, then delivers in publish order once stored', async () => {
    await topics.create({ name: 'sensors', partitions: 3, mqttBindings: ['sensors/#'] });
    const names = ['sensors/a', 'sensors/b', 'sensors/c', 'sensors/d'];
    const waits = Array.from({ length: 40 }, (_, i) => bridge.claim(mqtt(names[i % 4], String(i)), 1000 + i));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    expect(got).toHaveLength(0); // nothing reaches MQTT before the log has it
    await Promise.all(waits);
    expect(got.map((g) => Number(g.msg.payload))).toHaveLength(40);
    for (const name of names) {
      const p = partitionForKey(Buffer.from(name), 3);
      const mine = got.filter((g) => g.msg.topic === name);
      expect(mine.every((g) => g.partition === p && g.topic === 'sensors' && g.msg.origin === 'c1')).toBe(true);
      expect(mine.map((g) => Number(g.msg.payload))).toEqual(Array.from({ length: 10 }, (_, i) => i * 4 + names.indexOf(name)));
    }
    let total = 0;
    for (let p = 0; p < 3; p++) {
      const batches = await batchesOf(topics.partition('sensors', p));
      expect(batches.length).toBeLessThanOrEqual(1);
      total += batches.reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(40);
    expect(bridge.positions('sensors')).toEqual([0, 1, 2].map((p) => topics.partition('sensors', p).highWatermark()));
    expect(bridge.claim(mqtt('elsewhere/x', 'no'))).toBeUndefined();
  });

  it('delivers rebuilt messages by default and the published objects themselves when asked to keep them', async () => {
    await topics.create({ name: 'id', partitions: 1, mqttBindings: ['id/#'] });
    const a = mqtt('id/a', 'rebuilt');
    const b = mqtt('id/b', 'kept');
    await Promise.all([bridge.claim(a), bridge.claim(b, undefined, true)]);
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['rebuilt', 'kept']);
    expect(got[0].msg).not.toBe(a);
    expect(got[0].msg).toMatchObject({ topic: 'id/a', qos: 1, retain: false, origin: 'c1', expiresAt: 0 });
    expect(got[1].msg).toBe(b);
  });

  it('keeps later publishes for the next batch while one is being appended (group commit), in order', async () => {
    await topics.create({ name: 'g', partitions: 1, mqttBindings: ['g/#'] });
    const log = topics.partition('g', 0);
    const gate = hold(log);
    // Big enough to go out at once, so the next ones find an append in flight.
    const first = Array.from({ length: 5 }, (_, i) => bridge.claim(mqtt('g/x', Buffer.alloc(20_000, 48 + i)))!);
    const later = Array.from({ length: 30 }, (_, i) => bridge.claim(mqtt('g/x', `later ${i}`))!);
    await new Promise((r) => setImmediate(r));
    expect(gate.calls()).toBeGreaterThanOrEqual(1);
    expect(gate.calls()).toBeLessThanOrEqual(4);
    gate.release();
    await Promise.all([...first, ...later]);
    expect(got.map((g) => g.msg.payload.length > 1000 ? `big ${g.msg.payload[0] - 48}` : g.msg.payload.toString())).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `big ${i}`),
      ...Array.from({ length: 30 }, (_, i) => `later ${i}`),
    ]);
    expect((await batchesOf(log)).length).toBeLessThan(10);
  });

  it('holds publishers back above the high-water mark and lets them go once appends drain', async () => {
    await topics.create({ name: 'slow', partitions: 1, mqttBindings: ['slow/#'] });
    const gate = hold(topics.partition('slow', 0));
    const payload = Buffer.alloc(500_000);
    const waits: Promise<void>[] = [];
    for (let i = 0; bridge.overloaded === false; i++) {
      waits.push(bridge.claim(mqtt('slow/x', payload, 0))!);
      expect(i * payload.length).toBeLessThan(HIGH_WATER_BYTES + 2 * payload.length);
    }
    let relieved = false;
    const relief = bridge.relieved().then(() => (relieved = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(relieved).toBe(false);
    gate.release();
    await relief;
    await Promise.all(waits);
    expect(bridge.overloaded).toBe(false);
    expect(got).toHaveLength(waits.length);
  });

  it('rejects the publishers of a failed append and goes on with the next ones', async () => {
    await topics.create({ name: 'f', partitions: 1, mqttBindings: ['f/#'] });
    const restore = failAppends(topics.partition('f', 0));
    await expect(bridge.claim(mqtt('f/x', 'lost'))).rejects.toThrow('disk full');
    restore();
    await bridge.claim(mqtt('f/x', 'kept'));
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['kept']);
    expect(bridge.positions('f')).toEqual([1]);
  });

  it('refuses a message too large for any batch of the topic, without failing the others', async () => {
    await topics.create({ name: 'big', partitions: 1, mqttBindings: ['big/#'] });
    const small = bridge.claim(mqtt('big/x', 'fits', 0))!;
    await expect(bridge.claim(mqtt('big/x', Buffer.alloc(2_000_000), 0))).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' });
    await small;
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['fits']);
  });

  it('answers a publisher whose delivery failed instead of leaving it waiting, and keeps appends working', async () => {
    await topics.create({ name: 'boom', partitions: 1, mqttBindings: ['boom/#'] });
    bridge.attach({
      deliver: (msg) => {
        if (msg.payload.toString() === 'bad') throw new Error('subscriber exploded');
        got.push({ msg, topic: 'boom', partition: 0 });
      },
    });
    await expect(bridge.claim(mqtt('boom/x', 'bad'))).rejects.toThrow('subscriber exploded');
    await bridge.claim(mqtt('boom/x', 'good'));
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['good']);
    expect(topics.partition('boom', 0).highWatermark()).toBe(2);
  });

  it('delivers Kafka batches in offset order even when an earlier one must be decompressed first', async () => {
    await topics.create({ name: 'k', partitions: 1, mqttBindings: ['dev/+/cmd'] });
    const gz = gzipped(encodeRecordBatch([{ key: Buffer.from('dev/1/cmd'), value: Buffer.from('first') }, { key: null, value: Buffer.from('second') }]));
    await topics.append('k', 0, gz, 'kafka');
    await topics.append('k', 0, encodeRecordBatch([{ key: Buffer.from('dev/2/cmd'), value: Buffer.from('third') }]), 'kafka');
    await waitUntil(() => got.length === 3);
    expect(got.map((g) => `${g.msg.topic}=${g.msg.payload}`)).toEqual(['dev/1/cmd=first', 'k=second', 'dev/2/cmd=third']);
    expect(got.every((g) => g.msg.qos === 1 && g.msg.origin === undefined)).toBe(true);
  });

  it('reads records appended without an event from the log before the next one', async () => {
    await topics.create({ name: 'gap', partitions: 1, mqttBindings: ['gap/#'] });
    // Straight into the engine: TopicManager (and so the bridge) never hears of it.
    await topics.partition('gap', 0).append(encodeRecordBatch([{ key: Buffer.from('gap/a'), value: Buffer.from('missed') }]));
    await topics.append('gap', 0, encodeRecordBatch([{ key: Buffer.from('gap/b'), value: Buffer.from('seen') }]), 'kafka');
    await waitUntil(() => got.length === 2);
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['missed', 'seen']);
    expect(bridge.position('gap', 0)).toBe(2);
  });

  it('reads a range of the log back as messages, each MQTT publish only from its primary topic', async () => {
    await topics.create({ name: 'a-primary', partitions: 1, mqttBindings: ['s/#'] });
    await topics.create({ name: 'b-second', partitions: 1, mqttBindings: ['s/+/t'] });
    await bridge.claim(mqtt('s/1/t', 'both'));
    await topics.append('b-second', 0, encodeRecordBatch([{ key: Buffer.from('s/2/t'), value: Buffer.from('kafka') }]), 'kafka');
    expect(got.map((g) => `${g.topic}:${g.msg.payload}`)).toEqual(['a-primary:both', 'b-second:kafka']);
    const primary = await bridge.read('a-primary', 0, 0, 10, 1 << 20);
    expect(primary.messages.map((m) => [m.offset, m.msg.topic, m.msg.payload.toString()])).toEqual([[0, 's/1/t', 'both']]);
    const second = await bridge.read('b-second', 0, 0, 10, 1 << 20);
    expect(second.messages.map((m) => m.msg.payload.toString())).toEqual(['kafka']);
    expect(second.next).toBe(2);
    const upTo = await bridge.read('b-second', 0, 0, 1, 1 << 20);
    expect(upTo.messages).toHaveLength(0);
    expect(upTo.next).toBe(1);
  });

  it('follows binding changes: a topic bound later starts at its high watermark, an unbound one stops', async () => {
    await topics.create({ name: 'late', partitions: 2 });
    await topics.append('late', 0, encodeRecordBatch([{ key: null, value: Buffer.from('before') }]), 'kafka');
    expect(bridge.positions('late')).toBeUndefined();
    await topics.update('late', { mqttBindings: ['late/#'] });
    expect(bridge.positions('late')).toEqual([1, 0]);
    await topics.addPartitions('late', 3);
    expect(bridge.positions('late')).toEqual([1, 0, 0]);
    await bridge.claim(mqtt('late/x', 'now'));
    expect(got.map((g) => g.msg.payload.toString())).toEqual(['now']);
    await topics.update('late', { mqttBindings: [] });
    expect(bridge.claim(mqtt('late/x', 'not bound'))).toBeUndefined();
    await topics.delete('late');
    expect(bridge.positions('late')).toBeUndefined();
  });
});

describe('TopicBridge, QoS 0', () => {
  const kafkaBatch = (key: string, value: string): Buffer => encodeRecordBatch([{ key: Buffer.from(key), value: Buffer.from(value) }]);
  const payloads = (): string[] => got.map((g) => g.msg.payload.toString());
  const logValues = async (topic: string, partition = 0): Promise<string[]> =>
    (await bridge.read(topic, partition, 0, Number.MAX_SAFE_INTEGER, 1 << 30)).messages.map((m) => m.msg.payload.toString());

  it('hands QoS 0 publishes to MQTT at once, appends them in the same turn, and counts them in the position', async () => {
    await topics.create({ name: 'q0', partitions: 1, mqttBindings: ['q0/#'] });
    const waits = Array.from({ length: 10 }, (_, i) => bridge.claim(mqtt('q0/x', `m${i}`, 0), 1000 + i)!);
    // Delivered before the append: the very objects, in publish order.
    expect(payloads()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(got[0].msg.origin).toBe('c1');
    expect(topics.partition('q0', 0).highWatermark()).toBe(0);
    expect(bridge.position('q0', 0)).toBe(10);
    await Promise.all(waits);
    expect(topics.partition('q0', 0).highWatermark()).toBe(10);
    expect(bridge.position('q0', 0)).toBe(10);
    expect(await logValues('q0')).toEqual(payloads());
    expect(got).toHaveLength(10); // not a second time after the append
  });

  it('puts QoS 0 messages already delivered into the log before a Kafka producer\'s append, and later ones after it', async () => {
    await topics.create({ name: 'mix', partitions: 1, mqttBindings: ['mix/#'] });
    const gate = hold(topics.partition('mix', 0));
    const early = ['a', 'b', 'c'].map((v) => bridge.claim(mqtt('mix/dev', v, 0))!);
    expect(payloads()).toEqual(['a', 'b', 'c']);
    const produced = topics.append('mix', 0, kafkaBatch('mix/dev', 'K'), 'kafka');
    // The producer's append is in flight: a QoS 0 message now must not overtake its record.
    const late = bridge.claim(mqtt('mix/dev', 'd', 0))!;
    expect(payloads()).toEqual(['a', 'b', 'c']);
    gate.release();
    await Promise.all([...early, produced, late]);
    expect(payloads()).toEqual(['a', 'b', 'c', 'K', 'd']);
    expect(await logValues('mix')).toEqual(['a', 'b', 'c', 'K', 'd']);
    expect(bridge.position('mix', 0)).toBe(5);
    // Nothing is in flight any more: QoS 0 goes straight through again.
    void bridge.claim(mqtt('mix/dev', 'e', 0));
    expect(payloads()).toEqual(['a', 'b', 'c', 'K', 'd', 'e']);
    await bridge.drained();
  });

  it('keeps QoS 0 behind a QoS 1 message of the same partition still waiting for its append', async () => {
    await topics.create({ name: 'order', partitions: 1, mqttBindings: ['order/#'] });
    const first = bridge.claim(mqtt('order/x', 'qos1', 1))!;
    const second = bridge.claim(mqtt('order/x', 'qos0', 0))!;
    expect(got).toHaveLength(0);
    await Promise.all([first, second]);
    expect(payloads()).toEqual(['qos1', 'qos0']);
    expect(await logValues('order')).toEqual(['qos1', 'qos0']);
  });

  it('takes back the position of QoS 0 messages whose append failed', async () => {
    await topics.create({ name: 'lost', partitions: 1, mqttBindings: ['lost/#'] });
    const restore = failAppends(topics.partition('lost', 0));
    const failed = bridge.claim(mqtt('lost/x', 'gone', 0))!;
    expect(bridge.position('lost', 0)).toBe(1);
    await expect(failed).rejects.toThrow('disk full');
    expect(bridge.position('lost', 0)).toBe(0);
    restore();
    await bridge.claim(mqtt('lost/x', 'kept', 0));
    expect(bridge.position('lost', 0)).toBe(1);
    expect(await logValues('lost')).toEqual(['kept']);
  });

  it.each(['memory', 'segment'] as const)('stores every record intact while batch buffers are filled again (%s engine)', async (storage) => {
    await topics.create({ name: 'many', partitions: 3, storage, mqttBindings: ['many/#'] });
    const sent = new Map<string, string[]>();
    for (let turn = 0; turn < 40; turn++) {
      for (let i = 0; i < 250; i++) {
        const topic = `many/dev${i % 7}`;
        const value = `${turn}:${i}:${'x'.repeat(i % 50)}`;
        void bridge.claim(mqtt(topic, value, 0));
        sent.set(topic, [...(sent.get(topic) ?? []), value]);
      }
      await new Promise((r) => setImmediate(r));
    }
    await bridge.drained();
    const stored = new Map<string, string[]>();
    for (let p = 0; p < 3; p++) {
      for (const m of (await bridge.read('many', p, 0, Number.MAX_SAFE_INTEGER, 1 << 30)).messages) {
        stored.set(m.msg.topic, [...(stored.get(m.msg.topic) ?? []), m.msg.payload.toString()]);
      }
    }
    expect(stored).toEqual(sent);
    expect(got).toHaveLength(10_000);
  });
});

function gzipped(batch: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, BATCH_HEADER_SIZE), gzipSync(batch.subarray(BATCH_HEADER_SIZE))]);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt16BE(Compression.Gzip, 21);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}
