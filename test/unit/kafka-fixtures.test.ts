/**
 * Requests captured from real clients (test/fixtures/kafka/capture.ts: kafkajs 2.x and kcat/librdkafka 2.0) decode
 * to what the client meant and re-encode to the very same bytes, for every fixture.
 */
import { describe, expect, it } from 'vitest';
import { KAFKA_APIS } from '../../protocols/kafka/apis/index.js';
import { Compression, compressionOf, decodeRecords, validateBatches } from '../../runtime/storage/record-batch.js';
import { FixtureSet } from '../helpers/kafka-fixtures.js';

const set = new FixtureSet('kafka', KAFKA_APIS);
const fixtures = set.names;
const load = (name: string) => set.load(name);

describe('captured client requests', () => {
  it('has fixtures from both clients', () => {
    expect(fixtures.filter((f) => f.startsWith('kafkajs-')).length).toBeGreaterThanOrEqual(8);
    expect(fixtures.filter((f) => f.startsWith('kcat-')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(fixtures)('%s decodes and re-encodes byte for byte', (name) => {
    set.expectRoundTrip(name);
  });

  it('kcat ApiVersions v3 carries the client software name (flexible, header v2)', () => {
    const { header, body } = load('kcat-apiversions-v3.hex');
    expect(header.clientId).toBe('rdkafka');
    expect(body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: expect.stringMatching(/^\d+\.\d+/) });
  });

  it('kcat Produce v7 holds one valid zstd batch per partition from an idempotent producer', () => {
    const { body } = load('kcat-produce-v7.hex');
    expect(body.acks).toBe(-1);
    const batches = body.topicData[0].partitionData.map((p: { records: Buffer }) => validateBatches(p.records)).flat();
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(compressionOf(b.attributes)).toBe(Compression.Zstd);
      expect(b.producerId).toBeGreaterThanOrEqual(0);
      expect(b.baseSequence).toBe(0);
    }
  });

  it('kafkajs Produce v7 record carries key, value and header', () => {
    const { body } = load('kafkajs-produce-v7.hex');
    expect(body.topicData[0].name).toBe('fixture');
    const records: Buffer = body.topicData[0].partitionData[0].records;
    const [h] = validateBatches(records);
    const [rec] = decodeRecords(records, h);
    expect(rec.key?.toString()).toBe('k');
    expect(rec.value?.toString()).toBe('v');
    expect(rec.headers).toEqual([{ key: 'h', value: Buffer.from('x') }]);
  });

  it('kafkajs CreateTopics v3 asks for 3 partitions with retention.ms', () => {
    const { body } = load('kafkajs-createtopics-v3.hex');
    expect(body.topics[0]).toMatchObject({ name: 'fixture', numPartitions: 3, configs: [{ name: 'retention.ms', value: '86400000' }] });
  });

  it('kcat Fetch v11 is a sessionless read_committed fetch from the log start', () => {
    const { body } = load('kcat-fetch-v11.hex');
    expect(body).toMatchObject({ sessionId: 0, sessionEpoch: -1, isolationLevel: 1, minBytes: 1, replicaId: -1 });
    // The capture deleted records before offset 1 of partition 0, and kcat started at the beginning.
    expect(body.topics[0]).toMatchObject({ topic: 'fixture', partitions: [{ partition: 0, fetchOffset: 1 }] });
  });

  it('kcat ListOffsets v2 asks for the earliest offset; kafkajs ListOffsets v3 for the latest of each partition', () => {
    const kc = load('kcat-listoffsets-v2.hex').body;
    expect(kc.topics[0].partitions).toEqual([expect.objectContaining({ partitionIndex: 0, timestamp: -2 })]);
    const kj = load('kafkajs-listoffsets-v3.hex').body;
    expect(kj.topics[0].partitions.map((p: { timestamp: number }) => p.timestamp)).toEqual([-1, -1, -1]);
  });

  it('kafkajs admin Metadata v6 asks for all topics (null array) without auto-creation', () => {
    const { body } = load('kafkajs-metadata-v6.hex');
    expect(body).toMatchObject({ topics: null, allowAutoTopicCreation: false });
  });
});
