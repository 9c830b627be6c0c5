/**
 * Hostile and broken frames: each one closes (only) its own connection with a log line naming the reason, nothing
 * of a claimed size is allocated, and the broker keeps serving everyone else.
 */
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawKafka, requestFrame, withSize } from '../helpers/kafka-raw.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

let node: TestNode;
let bystander: RawKafka;
const logLines: Array<{ msg: string; reason?: string }> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  node = await startTestNode({ kafkaMaxRequestBytes: 2 * 1024 * 1024 }, { log: pino({ level: 'warn' }, sink) });
  bystander = await RawKafka.connect(node.ports.kafka);
});
afterAll(async () => {
  bystander.close();
  await node.destroy();
});

async function expectClosedWith(bytes: Buffer, reason: RegExp): Promise<void> {
  const conn = await RawKafka.connect(node.ports.kafka);
  conn.write(bytes);
  expect(await conn.nextFrame(3000)).toBeNull();
  await conn.closedPromise;
  expect(logLines.some((l) => l.msg === 'closing kafka connection' && reason.test(l.reason ?? ''))).toBe(true);
  // The broker still serves an existing connection.
  const res = await bystander.request(18, 2, {});
  expect(res.errorCode).toBe(0);
}

describe('malformed frames', () => {
  it('closes on a negative frame size', async () => {
    await expectClosedWith(Buffer.from('ffffff00', 'hex'), /frame size -256/);
  });

  it('closes on a frame size above kafkaMaxRequestBytes as soon as the 4-byte prefix arrives', async () => {
    const started = Date.now();
    await expectClosedWith(Buffer.from('7ffffff0', 'hex'), /frame size 2147483632 outside 0\.\.2097152/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('closes on a frame too short for a request header', async () => {
    await expectClosedWith(withSize(Buffer.from('000300', 'hex')), /unreadable request header/);
  });

  it('closes on a truncated body (Metadata claims more topics than it carries)', async () => {
    const frame = requestFrame(3, 4, 1, { topics: [{ name: 'a' }, { name: 'b' }], allowAutoTopicCreation: false });
    const body = frame.subarray(4, frame.length - 4); // drop the last topic's name bytes and the bool
    await expectClosedWith(withSize(body), /malformed Metadata v4 request/);
  });

  it('closes on an absurd array count without allocating for it', async () => {
    const header = requestFrame(0, 7, 1, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [] }).subarray(4);
    const body = Buffer.from(header);
    body.writeInt32BE(0x7ffffff0, body.length - 4); // topic_data count
    await expectClosedWith(withSize(body), /claims 2147483632 elements/);
  });

  it('closes on a negative string length', async () => {
    const body = Buffer.from(requestFrame(3, 1, 1, { topics: [{ name: 'x' }] }).subarray(4));
    body.writeInt16BE(-5, body.length - 3); // the topic name's length
    await expectClosedWith(withSize(body), /negative string length/);
  });

  it('survives random request bodies behind valid headers, and keeps serving', async () => {
    const keys = [[0, 9], [1, 12], [2, 7], [3, 12], [19, 7], [32, 4], [37, 3], [44, 1]] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.uint8Array({ maxLength: 200 }), async ([key, version], junk) => {
        const header = Buffer.alloc(10);
        header.writeInt16BE(key, 0);
        header.writeInt16BE(version, 2);
        header.writeInt32BE(77, 4);
        header.writeInt16BE(-1, 8); // null client id
        const tags = version >= 9 || key === 19 || key === 32 || key === 44 ? Buffer.from([0]) : Buffer.alloc(0);
        const conn = await RawKafka.connect(node.ports.kafka);
        conn.write(withSize(Buffer.concat([header, tags, Buffer.from(junk)])));
        // A body that happens to decode may legitimately get no answer (acks=0) or long-poll (Fetch max_wait).
        const frame = await conn.nextFrame(500).catch(() => null);
        if (frame) expect(frame.readInt32BE(0)).toBe(77);
        conn.close();
      }),
      { numRuns: 60 },
    );
    const res = await bystander.request(3, 1, { topics: null });
    expect(Array.isArray(res.topics)).toBe(true);
  });
});
