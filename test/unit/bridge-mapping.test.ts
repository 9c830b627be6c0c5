/** MQTT message <-> Kafka record on a bound topic: headers, topic choice, and the batch encoder's exact bytes. */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../runtime/buffer-pool.js';
import { MqttBatchBuilder } from '../../runtime/core/bridge/batch-encoder.js';
import { filtersOverlap, BindingIndex } from '../../runtime/core/bridge/bindings.js';
import { fromMqtt, mqttTopicOf, toMessage, toRecord } from '../../runtime/core/bridge/mapping.js';
import { partitionForKey } from '../../runtime/core/bridge/murmur2.js';
import { createMessage, type MqttMessage } from '../../runtime/core/mqtt/message.js';
import type { TopicRecord } from '../../runtime/meta/records.js';
import { decodeRecords, encodeRecordBatch, validateBatches } from '../../runtime/storage/record-batch.js';

const topic = (name: string, bindings: string[], partitions = 3): TopicRecord => ({
  name,
  partitions,
  storage: 'memory',
  retentionMs: -1,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  mqttBindings: bindings,
  createdAt: 0,
  configs: {},
});

const full = (): MqttMessage =>
  createMessage('sensors/a/temp', Buffer.from('21.5'), 1, true, {
    origin: 'dev-a',
    properties: {
      contentType: 'text/plain',
      responseTopic: 'replies/a',
      correlationData: Buffer.from([1, 2]),
      payloadFormatIndicator: true,
      userProperties: { site: 'north', tag: ['x', 'y'] },
    },
  });

describe('record mapping', () => {
  it('turns an MQTT 5 message into a record and back without losing what MQTT subscribers see', () => {
    const msg = full();
    const batch = encodeRecordBatch([toRecord(msg, Buffer.from(msg.topic), 1234)]);
    const [record] = decodeRecords(batch);
    expect(record.key?.toString()).toBe('sensors/a/temp');
    expect(record.timestamp).toBe(1234);
    expect(record.headers.map((h) => [h.key, h.value?.toString('hex')])).toEqual([
      ['mqtt.qos', Buffer.from('1').toString('hex')],
      ['mqtt.retain', Buffer.from('true').toString('hex')],
      ['mqtt.content-type', Buffer.from('text/plain').toString('hex')],
      ['mqtt.response-topic', Buffer.from('replies/a').toString('hex')],
      ['mqtt.correlation-data', '0102'],
      ['mqtt.payload-format', Buffer.from('1').toString('hex')],
      ['site', Buffer.from('north').toString('hex')],
      ['tag', Buffer.from('x').toString('hex')],
      ['tag', Buffer.from('y').toString('hex')],
    ]);
    expect(fromMqtt(record)).toBe(true);
    const back = toMessage(record, 'sensors', ['sensors/#']);
    expect(back).toMatchObject({ topic: 'sensors/a/temp', qos: 1, retain: true, expiresAt: 0, origin: undefined });
    expect(back.payload.toString()).toBe('21.5');
    expect(back.properties).toEqual(msg.properties);
  });

  it('maps plain Kafka records: QoS 1, no RETAIN, other headers as user properties, null header values as ""', () => {
    const batch = encodeRecordBatch([
      { key: Buffer.from('devices/7/cmd'), value: Buffer.from('go'), headers: [{ key: 'trace', value: null }, { key: 'mqtt.qos', value: Buffer.from('7') }] },
    ]);
    const [record] = decodeRecords(batch);
    const msg = toMessage(record, 'cmds', ['devices/+/cmd']);
    expect(msg).toMatchObject({ topic: 'devices/7/cmd', qos: 1, retain: false });
    expect(msg.properties).toEqual({ userProperties: { trace: '' } });
  });

  it('delivers on the key only when it is a topic name matching a binding, else on the Kafka topic name', () => {
    const rec = (key: string | Buffer | null) => ({ key: typeof key === 'string' ? Buffer.from(key) : key });
    expect(mqttTopicOf(rec('sensors/x'), 'sensors', ['sensors/#'])).toBe('sensors/x');
    expect(mqttTopicOf(rec('other/x'), 'sensors', ['sensors/#'])).toBe('sensors');
    expect(mqttTopicOf(rec('sensors/+'), 'sensors', ['sensors/#'])).toBe('sensors');
    expect(mqttTopicOf(rec(''), 'sensors', ['sensors/#'])).toBe('sensors');
    expect(mqttTopicOf(rec(null), 'sensors', ['sensors/#'])).toBe('sensors');
    expect(mqttTopicOf(rec(Buffer.from([0x73, 0xff])), 'sensors', ['#'])).toBe('sensors');
    expect(mqttTopicOf(rec('sensors/a\u0000b'), 'sensors', ['sensors/#'])).toBe('sensors');
  });

  it('clears Payload Format Indicator when a Kafka value is not UTF-8 [MQTT-3.3.2-4]', () => {
    const batch = encodeRecordBatch([{ key: null, value: Buffer.from([0xc3, 0x28]), headers: [{ key: 'mqtt.payload-format', value: Buffer.from('1') }] }]);
    expect(toMessage(decodeRecords(batch)[0], 't', []).properties?.payloadFormatIndicator).toBe(false);
  });
});

describe('MqttBatchBuilder', () => {
  it('writes the same bytes as the generic encoder, record for record', () => {
    const messages = [
      createMessage('a/b', Buffer.from('one'), 0, false),
      full(),
      createMessage('a/c', Buffer.alloc(300, 7), 2, false),
      createMessage('a/d', Buffer.alloc(0), 1, true),
    ];
    const times = [1_700_000_000_000, 1_700_000_000_005, 1_700_000_000_003, 1_700_000_000_400];
    const builder = new MqttBatchBuilder(16, 1 << 20);
    messages.forEach((m, i) => expect(builder.add(m, Buffer.from(m.topic), times[i])).toBeGreaterThan(0));
    const ours = builder.finish();
    const generic = encodeRecordBatch(messages.map((m, i) => toRecord(m, Buffer.from(m.topic), times[i])));
    expect(ours.equals(generic)).toBe(true);
    expect(validateBatches(ours)).toHaveLength(1);
  });

  it('refuses a record that would make the batch larger than its limit', () => {
    const builder = new MqttBatchBuilder(64, 400);
    expect(builder.add(createMessage('t', Buffer.alloc(200), 0, false), Buffer.from('t'), 1)).toBeGreaterThan(0);
    expect(builder.add(createMessage('t', Buffer.alloc(200), 0, false), Buffer.from('t'), 1)).toBe(-1);
    expect(decodeRecords(builder.finish())).toHaveLength(1);
  });
});

describe('BufferPool', () => {
  it('hands back buffers of the asked size, keeps at most its limit, and lets go of what went unused', () => {
    const pool = new BufferPool(3000);
    const a = pool.take(1000);
    const b = pool.take(1000);
    const c = pool.take(2000);
    pool.put(a);
    pool.put(b);
    pool.put(c); // over the limit: dropped
    expect(pool.held).toBe(2000);
    expect(pool.take(2000)).not.toBe(c);
    expect(pool.take(1000)).toBe(b);
    pool.put(b);
    pool.trim(); // nothing was measured yet
    expect(pool.held).toBe(2000);
    expect(pool.take(1000)).toBe(b);
    pool.put(b);
    pool.trim(); // one buffer's worth was never needed since the last trim: the older one goes
    expect(pool.held).toBe(1000);
    expect(pool.take(1000)).toBe(b);
    pool.put(b);
    pool.trim();
    pool.trim(); // idle since: nothing is kept
    expect(pool.held).toBe(0);
  });

  it('lends a builder its buffer and takes the old one back when the batch grows', () => {
    const pool = new BufferPool(1 << 20);
    const builder = new MqttBatchBuilder(100, 10_000, pool);
    const first = builder.buffer;
    builder.add(createMessage('t/x', Buffer.alloc(500), 0, false), Buffer.from('t/x'), 1);
    expect(builder.buffer).not.toBe(first);
    expect(pool.take(first.length)).toBe(first);
  });
});

describe('binding index', () => {
  it('finds the bound topics of an MQTT topic, the primary first by name, with the key partition', () => {
    const index = new BindingIndex();
    index.set(topic('zeta', ['sensors/+/temp'], 5));
    index.set(topic('alpha', ['sensors/#'], 3));
    const targets = index.targets('sensors/a/temp');
    expect(targets.map((t) => [t.topic, t.primary, t.partition])).toEqual([
      ['alpha', true, partitionForKey(Buffer.from('sensors/a/temp'), 3)],
      ['zeta', false, partitionForKey(Buffer.from('sensors/a/temp'), 5)],
    ]);
    expect(index.targets('other')).toHaveLength(0);
    expect(index.targets('$SYS/x')).toHaveLength(0);
    // Changes take effect at once (the cache is dropped).
    index.set(topic('alpha', [], 3));
    expect(index.primaryOf('sensors/a/temp')).toBe('zeta');
    index.remove('zeta');
    expect(index.primaryOf('sensors/a/temp')).toBeUndefined();
  });

  it('tells which bound topics a subscription can receive from', () => {
    const index = new BindingIndex();
    index.set(topic('sensors', ['sensors/#']));
    index.set(topic('cmds', ['devices/+/cmd']));
    expect(index.overlapping(['#'])).toEqual(['cmds', 'sensors']);
    expect(index.overlapping(['devices/7/#'])).toEqual(['cmds']);
    expect(index.overlapping(['sensors'])).toEqual(['sensors']);
    // A record without a usable key is delivered on the Kafka topic's name.
    expect(index.overlapping(['cmds'])).toEqual(['cmds']);
    expect(index.overlapping(['lights/+'])).toEqual([]);
  });

  it('decides filter overlap on both sides\' wildcards [MQTT-4.7.1-2] [MQTT-4.7.2-1]', () => {
    const yes: Array<[string, string]> = [
      ['a/#', 'a'],
      ['a/+/c', 'a/b/+'],
      ['+/+', 'a/b'],
      ['#', 'x/y/z'],
      ['a/b/#', 'a/+/c/d'],
      ['$SYS/#', '$SYS/+'],
    ];
    const no: Array<[string, string]> = [
      ['a/+', 'a'],
      ['a/b', 'a/c'],
      ['a/+/c', 'a/b/d'],
      ['#', '$SYS/x'],
      ['+/x', '$SYS/x'],
      ['a/b/c', 'a/b'],
    ];
    for (const [x, y] of yes) {
      expect(filtersOverlap(x, y), `${x} ~ ${y}`).toBe(true);
      expect(filtersOverlap(y, x), `${y} ~ ${x}`).toBe(true);
    }
    for (const [x, y] of no) {
      expect(filtersOverlap(x, y), `${x} !~ ${y}`).toBe(false);
      expect(filtersOverlap(y, x), `${y} !~ ${x}`).toBe(false);
    }
  });
});
