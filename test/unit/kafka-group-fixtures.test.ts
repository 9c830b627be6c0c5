/**
 * Group-API requests captured from real clients (test/fixtures/kafka-groups/capture.ts: kafkajs 2.x and
 * kcat/librdkafka 2.0) decode to what the client meant and re-encode to the very same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GROUP_APIS } from '../../protocols/kafka/apis/groups/index.js';
import { isFlexible } from '../../protocols/kafka/apis/types.js';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { readRequestHeader, skipHeaderTags, writeRequestHeader } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kafka-groups');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.hex'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function load(name: string): { header: ReturnType<typeof readRequestHeader>; body: any; frame: Buffer } {
  const frame = Buffer.from(readFileSync(path.join(dir, name), 'utf8').trim(), 'hex');
  const r = new Reader(frame);
  const header = readRequestHeader(r);
  const api = GROUP_APIS.find((a) => a.apiKey === header.apiKey)!;
  const flexible = isFlexible(api, header.apiVersion);
  if (flexible) skipHeaderTags(r);
  const body = decode(api.request, r, header.apiVersion, flexible);
  expect(r.remaining).toBe(0);
  return { header, body, frame };
}

describe('captured group requests', () => {
  it('covers the group flow of both clients, including a flexible version', () => {
    for (const api of ['findcoordinator', 'joingroup', 'syncgroup', 'heartbeat', 'leavegroup', 'offsetcommit', 'offsetfetch']) {
      expect(fixtures.some((f) => f.startsWith(`kafkajs-${api}-`))).toBe(true);
      expect(fixtures.some((f) => f.startsWith(`kcat-${api}-`))).toBe(true);
    }
    expect(fixtures).toContain('kcat-offsetfetch-v7.hex');
  });

  it.each(fixtures)('%s decodes and re-encodes byte for byte', (name) => {
    const { header, body, frame } = load(name);
    const api = GROUP_APIS.find((a) => a.apiKey === header.apiKey)!;
    expect(header.apiVersion).toBeGreaterThanOrEqual(api.minVersion);
    expect(header.apiVersion).toBeLessThanOrEqual(api.maxVersion);
    const flexible = isFlexible(api, header.apiVersion);
    const w = new Writer();
    writeRequestHeader(w, header, flexible);
    encode(api.request, w, body, header.apiVersion, flexible);
    expect(w.toBuffer().toString('hex')).toBe(frame.toString('hex'));
  });

  it('reads what kafkajs and librdkafka mean by their JoinGroup v5', () => {
    const kafkajs = load('kafkajs-joingroup-v5.hex').body;
    expect(kafkajs).toMatchObject({ groupId: 'fixture-group', sessionTimeoutMs: 6000, memberId: '', groupInstanceId: null, protocolType: 'consumer' });
    expect(kafkajs.protocols.map((p: { name: string }) => p.name)).toEqual(['RoundRobinAssigner']);
    const kcat = load('kcat-joingroup-v5.hex').body;
    expect(kcat).toMatchObject({ groupId: 'fixture-kcat', protocolType: 'consumer', groupInstanceId: null });
    expect(kcat.protocols.map((p: { name: string }) => p.name)).toEqual(['range', 'roundrobin']);
  });

  it('reads the commits both clients send', () => {
    const kafkajs = load('kafkajs-offsetcommit-v5.hex').body;
    expect(kafkajs.groupId).toBe('fixture-group');
    expect(kafkajs.generationIdOrMemberEpoch).toBeGreaterThan(0);
    expect(kafkajs.topics[0].name).toBe('fixture');
    const kcat = load('kcat-offsetcommit-v7.hex').body;
    expect(kcat).toMatchObject({ groupId: 'fixture-kcat', groupInstanceId: null });
    expect(kcat.topics[0].partitions.every((p: { committedOffset: number }) => p.committedOffset >= 0)).toBe(true);
    const fetch = load('kcat-offsetfetch-v7.hex').body;
    expect(fetch).toMatchObject({ groupId: 'fixture-kcat', requireStable: true });
  });
});
