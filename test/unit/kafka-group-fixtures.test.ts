/**
 * Group-API requests captured from real clients (test/fixtures/kafka-groups/capture.ts: kafkajs 2.x and
 * kcat/librdkafka 2.0) decode to what the client meant and re-encode to the very same bytes.
 */
import { describe, expect, it } from 'vitest';
import { GROUP_APIS } from '../../protocols/kafka/apis/groups/index.js';
import { FixtureSet } from '../helpers/kafka-fixtures.js';

const set = new FixtureSet('kafka-groups', GROUP_APIS);
const fixtures = set.names;
const load = (name: string) => set.load(name);

describe('captured group requests', () => {
  it('covers the group flow of both clients, including a flexible version', () => {
    for (const api of ['findcoordinator', 'joingroup', 'syncgroup', 'heartbeat', 'leavegroup', 'offsetcommit', 'offsetfetch']) {
      expect(fixtures.some((f) => f.startsWith(`kafkajs-${api}-`))).toBe(true);
      expect(fixtures.some((f) => f.startsWith(`kcat-${api}-`))).toBe(true);
    }
    expect(fixtures).toContain('kcat-offsetfetch-v7.hex');
  });

  it.each(fixtures)('%s decodes and re-encodes byte for byte', (name) => {
    set.expectRoundTrip(name);
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
