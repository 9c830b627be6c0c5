/** Kafka codec primitives and the schema interpreter: classic and flexible (KIP-482) encodings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { array, bool, field, int16, int32, int64, records, string, struct, uuid, versions } from '../../protocols/kafka/codec/schema.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';
import * as Fetch from '../../protocols/kafka/messages/fetch.js';
import * as Metadata from '../../protocols/kafka/messages/metadata.js';

const hex = (w: Writer): string => w.toBuffer().toString('hex');

describe('Writer/Reader primitives', () => {
  it('unsigned varints use 7 bits per byte, low first', () => {
    expect(hex(new Writer().uvarint(0))).toBe('00');
    expect(hex(new Writer().uvarint(127))).toBe('7f');
    expect(hex(new Writer().uvarint(128))).toBe('8001');
    expect(hex(new Writer().uvarint(300))).toBe('ac02');
    expect(hex(new Writer().uvarint(0xffffffff))).toBe('ffffffff0f');
  });

  it('round-trips unsigned and zig-zag varints', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (u, s) => {
        const r = new Reader(new Writer().uvarint(u).varint(s).toBuffer());
        expect(r.uvarint()).toBe(u);
        expect(r.varint()).toBe(s);
        expect(r.remaining).toBe(0);
      }),
    );
  });

  it('writes classic and compact strings, null included', () => {
    expect(hex(new Writer().string('ab', false))).toBe('00026162');
    expect(hex(new Writer().string('ab', true))).toBe('036162');
    expect(hex(new Writer().string(null, false))).toBe('ffff');
    expect(hex(new Writer().string(null, true))).toBe('00');
    expect(hex(new Writer().bytes(null, false))).toBe('ffffffff');
    expect(hex(new Writer().arrayLength(null, true))).toBe('00');
    const r = new Reader(Buffer.from('0003e282ac036162ffff00', 'hex'));
    expect(r.string(false)).toBe('€');
    expect(r.string(true)).toBe('ab');
    expect(r.string(false)).toBeNull();
    expect(r.string(true)).toBeNull();
  });

  it('round-trips strings, int64 and uuids through both encodings', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (s, compact, n) => {
        const id = Buffer.from(s.padEnd(16, 'x')).subarray(0, 16).toString('hex');
        const r = new Reader(new Writer().string(s, compact).int64(n).uuid(id).toBuffer());
        expect(r.string(compact)).toBe(s);
        expect(r.int64()).toBe(n);
        expect(r.uuid()).toBe(id);
      }),
    );
  });

  it('keeps large buffers as their own chunks instead of copying them', () => {
    const big = Buffer.alloc(10_000, 7);
    const chunks = new Writer().int32(1).raw(big).int16(2).finish();
    expect(chunks).toContain(big);
    expect(Buffer.concat(chunks).length).toBe(4 + 10_000 + 2);
  });

  it('keeps every byte in order when small writes overflow the scratch buffer (many small record batches)', () => {
    // Regression: writes once indexed the old scratch buffer after room() had replaced it, so a Fetch answer with
    // more than ~8 KiB of small batches lost its header and librdkafka waited for it forever.
    const w = new Writer(64);
    const expected: number[] = [];
    for (let i = 0; i < 3000; i++) {
      w.int32(i);
      w.int8(i & 0x7f);
      w.raw(Buffer.from([i & 0xff, (i >> 8) & 0xff, 7]));
      w.uvarint(300);
      expected.push(...[(i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff, i & 0x7f, i & 0xff, (i >> 8) & 0xff, 7, 0xac, 0x02]);
    }
    expect([...Buffer.concat(w.finish())]).toEqual(expected);
  });

  it('rejects reads past the end and lengths larger than what is left', () => {
    expect(() => new Reader(Buffer.from('0005616263', 'hex')).string(false)).toThrow(/runs past the end/);
    expect(() => new Reader(Buffer.from('000000', 'hex')).int32()).toThrow(/runs past the end/);
    expect(() => new Reader(Buffer.from('fffffffe', 'hex')).bytes(false)).toThrow(/negative bytes length/);
    expect(() => new Reader(Buffer.from('7fffffff00', 'hex')).arrayLength(false)).toThrow(/claims 2147483647 elements/);
    expect(() => new Reader(Buffer.from('ffffffffff', 'hex')).uvarint()).toThrow(/out of range|longer/);
    expect(() => new Reader(Buffer.from('ffffffffffff', 'hex')).uvarint()).toThrow(/longer than 5 bytes/);
  });
});

describe('schema interpreter', () => {
  const Sample = struct({
    id: field(int32, '0+'),
    name: field(string, '0+', { nullable: '1+' }),
    since2: field(int64, '2+', { default: -1 }),
    items: field(array(struct({ k: field(string, '0+'), v: field(int16, '0+') })), '0+'),
    flag: field(bool, '0+'),
    hint: field(string, '3+', { nullable: '3+', tag: 0 }),
    topicId: field(uuid, '3+'),
    data: field(records, '0+', { nullable: '0+' }),
  });
  const value = {
    id: 7,
    name: 'n',
    since2: 42,
    items: [{ k: 'a', v: 1 }],
    flag: true,
    hint: 'tagged',
    topicId: 'ab'.repeat(16),
    data: Buffer.from('xyz'),
  };

  it('parses version ranges', () => {
    expect(versions('0+')).toEqual({ min: 0, max: Infinity });
    expect(versions('3-7')).toEqual({ min: 3, max: 7 });
    expect(versions('4')).toEqual({ min: 4, max: 4 });
    expect(versions('none').min).toBeGreaterThan(versions('none').max);
  });

  it('round-trips every version, filling absent fields with their defaults', () => {
    for (let v = 0; v <= 4; v++) {
      const flexible = v >= 3;
      const buf = encode(Sample, new Writer(), value, v, flexible).toBuffer();
      const r = new Reader(buf);
      const back = decode(Sample, r, v, flexible);
      expect(r.remaining).toBe(0);
      expect(back).toEqual({
        ...value,
        since2: v >= 2 ? 42 : -1,
        hint: flexible ? 'tagged' : null,
        topicId: v >= 3 ? value.topicId : '0'.repeat(32),
      });
    }
  });

  it('writes a tagged field only when it differs from its default', () => {
    const withHint = encode(Sample, new Writer(), value, 3, true).toBuffer();
    const withoutHint = encode(Sample, new Writer(), { ...value, hint: null }, 3, true).toBuffer();
    // tag count 1, tag 0, size 7, compact string "tagged"; vs tag count 0.
    expect(withHint.subarray(-10).toString('hex')).toBe('010007' + '07' + Buffer.from('tagged').toString('hex'));
    expect(withoutHint.subarray(-1).toString('hex')).toBe('00');
  });

  it('skips unknown tagged fields', () => {
    const Small = struct({ a: field(int32, '0+') });
    const buf = Buffer.from('00000001' + '02' + '05' + '03' + 'aabbcc' + '09' + '01' + '00', 'hex');
    const r = new Reader(buf);
    expect(decode(Small, r, 0, true)).toEqual({ a: 1 });
    expect(r.remaining).toBe(0);
  });

  it('rejects a tagged field whose size runs past the struct', () => {
    const Small = struct({ a: field(int32, '0+') });
    expect(() => decode(Small, new Reader(Buffer.from('00000001010140aa', 'hex')), 0, true)).toThrow(/runs past/);
  });

  it('encodes a record set given as chunks without copying them', () => {
    const chunk = Buffer.alloc(1000, 1);
    const Res = struct({ data: field(records, '0+', { nullable: '0+' }) });
    const out = encode(Res, new Writer(), { data: [chunk, chunk] }, 12, true).finish();
    expect(out.filter((c) => c === chunk)).toHaveLength(2);
    expect(Buffer.concat(out).subarray(0, 2).toString('hex')).toBe('d10f'); // uvarint(2001)
  });

  it('encodes a Metadata v12 response (flexible, nullable topic names) and decodes it back', () => {
    const res: Metadata.Response = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'c1',
      controllerId: 0,
      topics: [
        {
          errorCode: 0,
          name: 't',
          topicId: '11'.repeat(16),
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }],
          topicAuthorizedOperations: -2147483648,
        },
      ],
      clusterAuthorizedOperations: -2147483648,
    };
    for (const [v, flexible] of [[0, false], [4, false], [9, true], [12, true]] as const) {
      const back = decode(Metadata.Response, new Reader(encode(Metadata.Response, new Writer(), res, v, flexible).toBuffer()), v, flexible);
      expect(back.topics[0].partitions[0].replicaNodes).toEqual([0]);
      expect(back.brokers[0].host).toBe('localhost');
      expect(back.clusterId).toBe(v >= 2 ? 'c1' : null);
    }
  });

  it('decodes a Fetch v12 request with a tagged cluster id and a v4 one without the later fields', () => {
    const req: Fetch.Request = {
      clusterId: 'abc',
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 5, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 100 }] }],
      forgottenTopicsData: [],
      rackId: '',
    };
    const v12 = decode(Fetch.Request, new Reader(encode(Fetch.Request, new Writer(), req, 12, true).toBuffer()), 12, true);
    expect(v12).toEqual(req);
    const v4 = decode(Fetch.Request, new Reader(encode(Fetch.Request, new Writer(), req, 4, false).toBuffer()), 4, false);
    expect(v4).toMatchObject({ clusterId: null, sessionId: 0, sessionEpoch: -1, topics: [{ partitions: [{ fetchOffset: 5, currentLeaderEpoch: -1 }] }] });
  });
});
