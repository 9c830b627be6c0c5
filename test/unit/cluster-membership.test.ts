/**
 * Membership leases, group ownership and the scheduler's own lease, on an embedded MetaStore: a broker's lease is
 * renewed by its heartbeat and its loss is noticed; group owners are stable and move little when brokers change;
 * one scheduler loop is active at a time and another takes over when it stops.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Membership } from '../../runtime/cluster/membership.js';
import { ownerOf } from '../../runtime/cluster/ownership.js';
import { nodeIdOf, parseLeaderKey, leaderKey, type BrokerLeaseValue } from '../../runtime/cluster/records.js';
import { reassignLeadership } from '../../runtime/cluster/reassign.js';
import { SchedulerLoop } from '../../runtime/cluster/scheduler-loop.js';
import { brokerLeaseSchema } from '../../runtime/scheduler/leases.js';
import { runSchedulerTick } from '../../runtime/scheduler/tick.js';
import { createLogger } from '../../runtime/logger.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { tempDir } from '../helpers/batches.js';
import { until } from '../helpers/groups.js';

const log = createLogger('silent', { pretty: false });
let dir: string;
let meta: EmbeddedMetaStore;

beforeEach(async () => {
  dir = await tempDir('robustmq-cluster-members-');
  meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
});
afterEach(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

const endpoint = { host: '127.0.0.1', port: 1 };
const identity = (id: string) => ({ id, nodeId: nodeIdOf(id), host: '127.0.0.1', kafka: endpoint, internal: endpoint, startedAt: Date.now() });
const report = () => ({ connections: { kafka: 2 }, lastActivityAt: 1, partitions: 3 });

describe('membership lease', () => {
  it('is renewed by the heartbeat, carries the load, and is deleted on release', async () => {
    // A TTL long enough that a stalled test worker does not expire it (heartbeat every second); a loss is recorded,
    // not thrown inside the heartbeat, and asserted below.
    const lost: string[] = [];
    const m = new Membership({ meta, ttlMs: 3000, log, report, onLost: (reason) => lost.push(reason) });
    await m.register(identity('b1'));
    const first = await meta.get<BrokerLeaseValue>('brokers', 'b1');
    expect(first?.value).toMatchObject({ id: 'b1', connections: { kafka: 2 }, partitions: 3 });
    let later = first!;
    await until(async () => (later = (await meta.get<BrokerLeaseValue>('brokers', 'b1'))!).version > first!.version, 10_000);
    expect(later.value.heartbeatAt).toBeGreaterThan(first!.value.heartbeatAt);
    expect(later.expiresAt!).toBeGreaterThan(Date.now());
    await m.update({ draining: true });
    expect((await meta.get<BrokerLeaseValue>('brokers', 'b1'))!.value.draining).toBe(true);
    await m.release();
    expect(await meta.get('brokers', 'b1')).toBeUndefined();
    expect(lost).toEqual([]);
  });

  it('reports the lease lost when another process took it over (or it expired meanwhile)', async () => {
    const lost: string[] = [];
    const m = new Membership({ meta, ttlMs: 1000, log, report, onLost: (reason) => lost.push(reason) });
    await m.register(identity('b1'));
    await meta.put('brokers', 'b1', { ...identity('b1'), heartbeatAt: 0 }, { ttlMs: 10_000 });
    // The next heartbeat (within a third of the TTL, later on a loaded machine) finds the entry changed.
    await until(() => lost.length > 0, 10_000);
    await m.release();
    // Reported once, even with a heartbeat in flight.
    expect(lost).toEqual(['the membership lease expired or was taken over']);
    // A lost lease is not deleted: it belongs to whoever holds it now.
    expect(await meta.get('brokers', 'b1')).toBeDefined();
  });
});

describe('keys and ids', () => {
  it('derives Kafka node ids from broker ids and splits leadership keys', () => {
    expect(nodeIdOf('7')).toBe(7);
    expect(nodeIdOf('b1')).toBe(nodeIdOf('b1'));
    expect(nodeIdOf('b1')).not.toBe(nodeIdOf('b2'));
    expect(nodeIdOf('0')).toBeGreaterThan(0);
    expect(parseLeaderKey(leaderKey('a.b-c', 12))).toEqual({ topic: 'a.b-c', partition: 12 });
    expect(parseLeaderKey('nopartition')).toBeUndefined();
  });
});

describe('group ownership', () => {
  const brokers = (...ids: string[]) => ids.map((id) => ({ ...identity(id), heartbeatAt: 0, connections: {}, lastActivityAt: 0, partitions: 0 }));
  const groups = Array.from({ length: 300 }, (_, i) => `group-${i}`);

  it('spreads groups over brokers, skips draining ones, and moves only the groups a joiner wins', () => {
    const three = brokers('b1', 'b2', 'b3');
    const owners = groups.map((g) => ownerOf(g, three)!.id);
    for (const id of ['b1', 'b2', 'b3']) expect(owners.filter((o) => o === id).length).toBeGreaterThan(60);
    const four = brokers('b1', 'b2', 'b3', 'b4');
    const moved = groups.filter((g, i) => ownerOf(g, four)!.id !== owners[i]);
    expect(moved.every((g) => ownerOf(g, four)!.id === 'b4')).toBe(true);
    expect(moved.length).toBeLessThan(120);
    const draining = [...three.slice(0, 2), { ...three[2], draining: true }];
    expect(groups.every((g) => ownerOf(g, draining)!.id !== 'b3')).toBe(true);
    expect(ownerOf('g', [])).toBeUndefined();
  });
});

describe('scheduler loop', () => {
  it('runs one active scheduler at a time; a standby takes over when the active one stops', async () => {
    const a = new SchedulerLoop({ meta, log, intervalMs: 100 });
    const b = new SchedulerLoop({ meta, log, intervalMs: 100 });
    expect(await a.pass()).toMatchObject({ moved: 0 });
    expect(await b.pass()).toBeUndefined();
    expect([a.isActive, b.isActive]).toEqual([true, false]);
    await a.stop();
    expect(await b.pass()).toMatchObject({ moved: 0 });
    expect(b.isActive).toBe(true);
    await b.stop();
  });
});

describe('the scaling Lambda', () => {
  it('reads cluster leases as its own and reassigns leadership through reassignLeadership', async () => {
    const m = new Membership({ meta, ttlMs: 10_000, log, report, onLost: () => undefined });
    await m.register(identity('b1'));
    const lease = await meta.get<BrokerLeaseValue>('brokers', 'b1');
    expect(brokerLeaseSchema.safeParse(lease!.value).success).toBe(true);
    await meta.put('topics', 't', { name: 't', partitions: 2, storage: 'memory', retentionMs: -1, retentionBytes: -1, cleanupPolicy: 'delete', mqttBindings: [], createdAt: 0, configs: {} });
    const result = await runSchedulerTick(
      {
        meta,
        log,
        service: { describe: async () => ({ desired: 1, running: 1, pending: 0 }), setDesired: async () => undefined },
        traffic: { read: async () => ({ activeFlows: 0 }), publishConnectionsPerBroker: async () => undefined },
        reassign: reassignLeadership,
      },
      { minBrokers: 1, maxBrokers: 4, connectionsPerBroker: 1000, idleAfterMs: 60_000 },
    );
    expect(result.liveBrokers).toEqual(['b1']);
    expect(result.reassignment).toMatchObject({ moved: 2, leaderless: 0 });
    await m.release();
  });
});
