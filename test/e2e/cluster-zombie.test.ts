/**
 * The zombie (acceptance, phase 1): a broker paused with SIGSTOP while it holds an unflushed append loses its
 * lease; the scheduler fences it and gives its partition to another broker, which keeps accepting records. When
 * the paused broker resumes (SIGCONT) its write is sent to storage — and refused: no object it writes after the
 * pause is ever committed, so the partition's committed ranges never overlap and the producer never hears
 * success. The zombie then exits with the "replaced" code for its supervisor to restart it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectEntryValue } from '../../runtime/storage/s3/format.js';
import { decodeRanges, isAbortMarker } from '../../runtime/storage/s3/format.js';
import { EXIT_LOST_LEASE } from '../../runtime/cli/broker.js';
import { textBatch } from '../helpers/batches.js';
import { assertBuilt } from '../helpers/cli.js';
import { clusterStatus, SHORT_LEASE_TTL_MS, startBrokerProcess, startInfra, startMeta, until, type Child, type ClusterInfra } from '../helpers/cluster.js';
import { kcat } from '../helpers/kafka-kcat.js';
import { RawKafka } from '../helpers/kafka-raw.js';

const TOPIC = 'zombie';
let infra: ClusterInfra;
let meta: Child;
const brokers = new Map<string, Child>();

beforeAll(async () => {
  assertBuilt();
  infra = await startInfra('zombie');
  meta = await startMeta(infra);
  // b1 waits 2 s before writing an object, so an append is still unwritten when it is paused; its lease is short
  // (it expires while b1 is paused). b2 and b3 keep the long default, so a stalled machine cannot expire them.
  brokers.set('b1', await startBrokerProcess(infra, 'b1', { 's3-flush-ms': 2000, 'cluster-lease-ttl-ms': SHORT_LEASE_TTL_MS }));
  for (const id of ['b2', 'b3']) brokers.set(id, await startBrokerProcess(infra, id));
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) {
    b.child.kill('SIGCONT');
    b.kill('SIGKILL');
  }
  meta?.kill('SIGKILL');
  await Promise.all([...brokers.values(), ...(meta ? [meta] : [])].map((c) => c.exited));
  await infra?.close();
});

describe('a paused broker that lost its lease', () => {
  it('cannot commit after it resumes, and exits to be restarted', async () => {
    const b1 = brokers.get('b1')!;
    const b2 = brokers.get('b2')!;
    const created = await fetch(`http://127.0.0.1:${b2.ports.admin}/api/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: TOPIC, partitions: 3 }),
    });
    expect(created.status).toBe(201);
    const status = await until(async () => {
      const s = await clusterStatus(b2.ports.admin);
      return s.nodes.length === 3 && s.nodes.every((n) => n.partitions === 1) ? s : undefined;
    }, 10_000);
    const partition = status.nodes.find((n) => n.brokerId === 'b1')!.led[0].partition;
    await kcat(b2.ports.kafka, ['-P', '-t', TOPIC, '-p', String(partition)], 'before-0\nbefore-1\n');

    // An append b1 accepts but will not write for 2 s; then b1 is frozen.
    const raw = await RawKafka.connect(b1.ports.kafka);
    const records = textBatch(['zombie-record']);
    const correlationId = raw.post(0, 7, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }] });
    await new Promise((r) => setTimeout(r, 300));
    b1.child.kill('SIGSTOP');

    // Its lease expires; the partition moves (b1 fenced first) and takes records again.
    const moved = await until(async () => {
      const s = await clusterStatus(b2.ports.admin);
      const leader = s.nodes.find((n) => n.led.some((p) => p.partition === partition));
      return s.nodes.length === 2 && leader && leader.brokerId !== 'b1' ? leader : undefined;
    }, 15_000);
    expect(moved.led.find((p) => p.partition === partition)!.epoch).toBeGreaterThan(1);
    await kcat(b2.ports.kafka, ['-P', '-t', TOPIC, '-p', String(partition)], 'after-0\n');

    b1.child.kill('SIGCONT');
    const frame = await raw.nextFrame(15_000);
    if (frame) {
      const res = raw.decodeResponse(frame, 0, 7, correlationId);
      expect(res.responses[0].partitionResponses[0].errorCode).not.toBe(0);
    }
    raw.close();
    expect(await b1.exited).toBe(EXIT_LOST_LEASE);
    expect(b1.lines.some((l) => l.msg === 'cluster broker must restart')).toBe(true);

    // What is stored: the records before and after, dense from offset 0, without the zombie's.
    const { stdout } = await kcat(b2.ports.kafka, ['-C', '-t', TOPIC, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%o %s\n']);
    expect(stdout.trim().split('\n')).toEqual(['0 before-0', '1 before-1', '2 after-0']);
    // And what is committed in the MetaStore: the partition's ranges never overlap (the zombie's object would).
    const store = await infra.meta();
    const ranges = (await store.list<ObjectEntryValue>('s3-objects'))
      .filter((e) => !isAbortMarker(e.value))
      .flatMap((e) => decodeRanges(e.value as Parameters<typeof decodeRanges>[0]).map((r) => ({ ...r, writer: (e.value as { writer: string }).writer })))
      .filter((r) => r.topic === TOPIC && r.partition === partition)
      .sort((a, b) => a.baseOffset - b.baseOffset);
    expect(ranges.map((r) => [r.baseOffset, r.lastOffset])).toEqual([
      [0, 1],
      [2, 2],
    ]);
    expect(ranges[1].writer).not.toBe('b1');
  }, 90_000);
});
