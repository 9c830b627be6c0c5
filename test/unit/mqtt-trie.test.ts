import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QoS, Subscriber, SubscriptionOptions } from '../../runtime/core/mqtt/message.js';
import { parseSharedFilter } from '../../runtime/core/mqtt/shared.js';
import { SubscriptionTrie } from '../../runtime/core/mqtt/trie.js';
import { mqttMatches } from '../../runtime/core/topic-names.js';

const sub = (clientId: string, online = true): Subscriber => ({ clientId, online, deliver: () => undefined });
const opts = (qos: QoS = 0, extra: Partial<SubscriptionOptions> = {}): SubscriptionOptions => ({
  qos,
  noLocal: false,
  retainAsPublished: false,
  retainHandling: 0,
  ...extra,
});
const ids = (trie: SubscriptionTrie, topic: string): string[] =>
  trie
    .match(topic)
    .direct.map((d) => d.subscriber.clientId)
    .sort();

describe('SubscriptionTrie', () => {
  it('matches exact, + and # filters like the spec examples [MQTT-4.7.1]', () => {
    const t = new SubscriptionTrie();
    const filters = ['sport/tennis/player1', 'sport/tennis/player1/#', 'sport/#', '#', 'sport/+/player1', '+/+', '/+', '+', 'sport/+'];
    filters.forEach((f, i) => t.add(f, sub(`c${i}:${f}`), opts()));
    expect(ids(t, 'sport/tennis/player1')).toEqual(
      ['c0:sport/tennis/player1', 'c1:sport/tennis/player1/#', 'c2:sport/#', 'c3:#', 'c4:sport/+/player1'].sort(),
    );
    expect(ids(t, 'sport')).toEqual(['c2:sport/#', 'c3:#', 'c7:+'].sort());
    expect(ids(t, 'sport/')).toEqual(['c2:sport/#', 'c3:#', 'c5:+/+', 'c8:sport/+'].sort());
    expect(ids(t, '/finance')).toEqual(['c3:#', 'c5:+/+', 'c6:/+'].sort());
  });

  it('does not match $ topics with filters starting with a wildcard [MQTT-4.7.2-1]', () => {
    const t = new SubscriptionTrie();
    t.add('#', sub('all'), opts());
    t.add('+/broker/uptime', sub('plus'), opts());
    t.add('$SYS/#', sub('sys'), opts());
    t.add('$SYS/+/uptime', sub('sysplus'), opts());
    expect(ids(t, '$SYS/broker/uptime')).toEqual(['sys', 'sysplus']);
  });

  it('merges overlapping subscriptions of one subscriber: max QoS and every identifier', () => {
    const t = new SubscriptionTrie();
    const s = sub('a');
    t.add('a/+', s, opts(0, { subscriptionId: 1 }));
    t.add('a/#', s, opts(2, { subscriptionId: 7 }));
    const [m] = t.match('a/b').direct;
    expect(m.qos).toBe(2);
    expect([...(m.subscriptionIds ?? [])].sort()).toEqual([1, 7]);
  });

  it('removes subscriptions and prunes empty nodes', () => {
    const t = new SubscriptionTrie();
    const s = sub('a');
    expect(t.add('x/y/z', s, opts())).toBe(true);
    expect(t.add('x/y/z', s, opts(1))).toBe(false);
    expect(t.size).toBe(1);
    expect(t.remove('x/y/z', s)).toBe(true);
    expect(t.remove('x/y/z', s)).toBe(false);
    expect(t.size).toBe(0);
    expect(ids(t, 'x/y/z')).toEqual([]);
    expect((t as unknown as { root: { children: Map<string, unknown> } }).root.children.size).toBe(0);
  });

  it('agrees with the reference matcher on random filters and topics', () => {
    const level = fc.constantFrom('a', 'b', '', '$x');
    const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
    const filterArb = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$x'), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'));
    fc.assert(
      fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), topicArb, (filters, topic) => {
        const t = new SubscriptionTrie();
        filters.forEach((f) => t.add(f, sub(f), opts()));
        const expected = filters.filter((f) => mqttMatches(f, topic)).sort();
        expect(ids(t, topic)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps shared groups round robin among online members', () => {
    const t = new SubscriptionTrie();
    const a = sub('a');
    const b = sub('b');
    const off = sub('off', false);
    t.addShared('$share/g/t/#', 'g', 't/#', a, opts(1));
    t.addShared('$share/g/t/#', 'g', 't/#', off, opts(1));
    t.addShared('$share/g/t/#', 'g', 't/#', b, opts(1));
    const [group] = t.match('t/1').shared;
    const picks = Array.from({ length: 6 }, () => group.pick()!.subscriber.clientId);
    expect(picks).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(group.pick(a)!.subscriber.clientId).toBe('b');
    expect(t.removeShared('g', 't/#', a)).toBe(true);
    expect(t.removeShared('g', 't/#', b)).toBe(true);
    // Only an offline member is left: it still gets the message (queued in its session).
    expect(t.match('t/1').shared[0].pick()!.subscriber.clientId).toBe('off');
  });
});

describe('parseSharedFilter', () => {
  it('splits valid shared filters and rejects malformed ones [MQTT-4.8.2-1] [MQTT-4.8.2-2]', () => {
    expect(parseSharedFilter('a/b')).toBeUndefined();
    expect(parseSharedFilter('$share/g/a/+')).toEqual({ group: 'g', filter: 'a/+' });
    expect(typeof parseSharedFilter('$share/g')).toBe('string');
    expect(typeof parseSharedFilter('$share//a')).toBe('string');
    expect(typeof parseSharedFilter('$share/g+/a')).toBe('string');
    expect(typeof parseSharedFilter('$share/g/a/#/b')).toBe('string');
  });
});

