/**
 * The ACL engine: MQTT filter semantics (publish by topic match, subscribe allowed by covering and denied by
 * overlap, %u/%c, $share, $-topics), Kafka name patterns, deny wins, the no-match default, and refresh on
 * MetaStore changes written by someone else (another broker).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filterCovers, filtersOverlap, makeRule, topicMatches } from '../../runtime/core/auth/acl-rules.js';
import { AclEngine } from '../../runtime/core/auth/acl.js';
import type { Principal } from '../../runtime/core/auth/types.js';
import { isRobustMQError } from '../../runtime/errors.js';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import type { MetaStore } from '../../runtime/meta/store.js';

const lv = (s: string) => s.split('/');

describe('MQTT filter relations', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/+', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
  ])('filter %s matches topic %s: %s', (f, t, expected) => expect(topicMatches(lv(f), lv(t))).toBe(expected));

  it.each([
    ['a/#', 'a/+/c', true],
    ['a/#', 'a/#', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/#', false],
    ['a/b', 'a/+', false],
    ['#', '$SYS/#', false],
    ['+/+', 'x/y/z', false],
  ])('%s covers %s: %s', (outer, inner, expected) => expect(filterCovers(lv(outer), lv(inner))).toBe(expected));

  it.each([
    ['secret/#', '#', true],
    ['a/+/c', 'a/b/+', true],
    ['a/b', 'a/c', false],
    ['a/b/c', 'a/b', false],
    ['$SYS/#', '#', false],
  ])('%s overlaps %s: %s', (a, b, expected) => {
    expect(filtersOverlap(lv(a), lv(b))).toBe(expected);
    expect(filtersOverlap(lv(b), lv(a))).toBe(expected);
  });
});

describe('rule validation', () => {
  const bad = (input: Record<string, unknown>) => {
    try {
      makeRule(input);
    } catch (err) {
      return isRobustMQError(err, 'INVALID_ARGUMENT');
    }
    return false;
  };
  it('rejects actions that do not fit the resource, bad filters and patterns, bad principals', () => {
    expect(bad({ principal: 'a', effect: 'allow', action: 'publish', resourceType: 'topic', pattern: 'x' })).toBe(true);
    expect(bad({ principal: 'a', effect: 'allow', action: 'publish', resourceType: 'mqtt', pattern: 'a/#/b' })).toBe(true);
    expect(bad({ principal: 'a', effect: 'allow', action: 'produce', resourceType: 'topic', pattern: 'a*b' })).toBe(true);
    expect(bad({ principal: 'a b', effect: 'allow', action: 'produce', resourceType: 'topic', pattern: 'x' })).toBe(true);
    expect(bad({ principal: 'a', effect: 'maybe', action: 'produce', resourceType: 'topic', pattern: 'x' })).toBe(true);
  });
  it('gives the same rule the same id', () => {
    const spec = { principal: 'a', effect: 'allow', action: 'produce', resourceType: 'topic', pattern: 'x' };
    expect(makeRule(spec).id).toBe(makeRule({ ...spec }).id);
    expect(makeRule(spec).id).not.toBe(makeRule({ ...spec, effect: 'deny' }).id);
  });
});

describe('AclEngine', () => {
  let dir: string;
  let meta: MetaStore;
  let engine: AclEngine;
  const alice: Principal = { user: 'alice', clientId: 'dev-1' };
  const bob: Principal = { user: 'bob', clientId: 'dev-2' };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-acl-'));
    meta = await EmbeddedMetaStore.open(dir);
    engine = new AclEngine(meta, 'deny');
    await engine.start();
  });
  afterEach(async () => {
    engine.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const add = (principal: string, effect: string, action: string, resourceType: string, pattern: string) =>
    engine.add({ principal, effect, action, resourceType, pattern });

  it('allows by rule, denies by default (aclNoMatch deny), and lets deny win', async () => {
    await add('alice', 'allow', 'produce', 'topic', 'orders-*');
    await add('*', 'deny', 'produce', 'topic', 'orders-secret');
    expect(engine.authorize(alice, 'produce', { type: 'topic', name: 'orders-eu' })).toBe(true);
    expect(engine.authorize(alice, 'produce', { type: 'topic', name: 'orders-secret' })).toBe(false);
    expect(engine.authorize(alice, 'consume', { type: 'topic', name: 'orders-eu' })).toBe(false);
    expect(engine.authorize(bob, 'produce', { type: 'topic', name: 'orders-eu' })).toBe(false);
  });

  it('answers allow when no rule matches and the default is allow', async () => {
    const open = new AclEngine(meta, 'allow');
    await open.start();
    await open.add({ principal: 'bob', effect: 'deny', action: 'consume', resourceType: 'group', pattern: 'payroll' });
    expect(open.authorize(alice, 'consume', { type: 'group', name: 'payroll' })).toBe(true);
    expect(open.authorize(bob, 'consume', { type: 'group', name: 'payroll' })).toBe(false);
    open.close();
  });

  it('fills %u and %c and refuses placeholders that would widen an allow rule', async () => {
    await add('*', 'allow', 'publish', 'mqtt', 'users/%u/#');
    await add('*', 'allow', 'subscribe', 'mqtt', 'devices/%c/+');
    expect(engine.authorize(alice, 'publish', { type: 'mqtt', name: 'users/alice/x' })).toBe(true);
    expect(engine.authorize(alice, 'publish', { type: 'mqtt', name: 'users/bob/x' })).toBe(false);
    expect(engine.authorize(bob, 'subscribe', { type: 'mqtt', name: 'devices/dev-2/temp' })).toBe(true);
    expect(engine.authorize(bob, 'subscribe', { type: 'mqtt', name: 'devices/dev-2/#' })).toBe(false);
    expect(engine.authorize(bob, 'subscribe', { type: 'mqtt', name: '$share/g/devices/dev-2/+' })).toBe(true);
    const sneaky: Principal = { user: 'eve', clientId: '#' };
    expect(engine.authorize(sneaky, 'subscribe', { type: 'mqtt', name: 'devices/#/+' })).toBe(false);
    expect(engine.authorize({ user: 'eve' }, 'subscribe', { type: 'mqtt', name: 'devices//x' })).toBe(false);
  });

  it('denies a subscription that overlaps a deny rule even when an allow rule covers it', async () => {
    await add('alice', 'allow', 'subscribe', 'mqtt', '#');
    await add('alice', 'deny', 'subscribe', 'mqtt', 'secret/#');
    expect(engine.authorize(alice, 'subscribe', { type: 'mqtt', name: 'public/+' })).toBe(true);
    expect(engine.authorize(alice, 'subscribe', { type: 'mqtt', name: '#' })).toBe(false);
    expect(engine.authorize(alice, 'subscribe', { type: 'mqtt', name: 'secret/a' })).toBe(false);
  });

  it('refuses a duplicate rule and deletes by id', async () => {
    const rule = await add('alice', 'allow', 'consume', 'group', 'g1');
    await expect(add('alice', 'allow', 'consume', 'group', 'g1')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect(engine.authorize(alice, 'consume', { type: 'group', name: 'g1' })).toBe(true);
    await engine.delete(rule.id);
    expect(engine.authorize(alice, 'consume', { type: 'group', name: 'g1' })).toBe(false);
    await expect(engine.delete(rule.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('follows rules another process writes to the MetaStore (watch), without a restart', async () => {
    const other = new AclEngine(meta, 'deny');
    await other.start();
    expect(engine.authorize(alice, 'consume', { type: 'topic', name: 't' })).toBe(false);
    const rule = await other.add({ principal: 'alice', effect: 'allow', action: 'consume', resourceType: 'topic', pattern: 't' });
    await waitFor(() => engine.authorize(alice, 'consume', { type: 'topic', name: 't' }));
    await other.delete(rule.id);
    await waitFor(() => !engine.authorize(alice, 'consume', { type: 'topic', name: 't' }));
    other.close();
  });

  it('loads the rules already stored when it starts', async () => {
    await add('bob', 'allow', 'alter', 'cluster', '*');
    const late = new AclEngine(meta, 'deny');
    await late.start();
    expect(late.authorize(bob, 'alter', { type: 'cluster', name: '' })).toBe(true);
    expect(late.list('bob')).toHaveLength(1);
    late.close();
  });
});

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}
