import { describe, expect, it } from 'vitest';
import { createMessage } from '../../runtime/core/mqtt/message.js';
import { RetainedStore } from '../../runtime/core/mqtt/retained.js';

const msg = (topic: string, payload: string, expiresAt = 0) => createMessage(topic, Buffer.from(payload), 1, true, { expiresAt });
const topics = (store: RetainedStore, filter: string): string[] =>
  store
    .match(filter)
    .map((m) => m.topic)
    .sort();

describe('RetainedStore', () => {
  it('sets, replaces and clears with an empty payload [MQTT-3.3.1-5] [MQTT-3.3.1-10]', () => {
    const s = new RetainedStore();
    s.set(msg('a/b', 'one'));
    s.set(msg('a/b', 'two'));
    expect(s.size).toBe(1);
    expect(s.get('a/b')?.payload.toString()).toBe('two');
    s.set(msg('a/b', ''));
    expect(s.size).toBe(0);
    expect(s.get('a/b')).toBeUndefined();
    s.set(msg('never/set', ''));
    expect(s.size).toBe(0);
  });

  it('finds retained messages by wildcard filters', () => {
    const s = new RetainedStore();
    for (const t of ['a', 'a/b', 'a/b/c', 'a/x/c', 'b', '/lead', '$SYS/uptime']) s.set(msg(t, t));
    expect(topics(s, '#')).toEqual(['/lead', 'a', 'a/b', 'a/b/c', 'a/x/c', 'b']);
    expect(topics(s, 'a/#')).toEqual(['a', 'a/b', 'a/b/c', 'a/x/c']);
    expect(topics(s, 'a/+/c')).toEqual(['a/b/c', 'a/x/c']);
    expect(topics(s, '+')).toEqual(['a', 'b']);
    expect(topics(s, '+/lead')).toEqual(['/lead']);
    expect(topics(s, '$SYS/#')).toEqual(['$SYS/uptime']);
    expect(topics(s, 'a/b')).toEqual(['a/b']);
  });

  it('drops expired messages instead of delivering them', () => {
    const s = new RetainedStore();
    s.set(msg('e', 'gone', Date.now() - 1));
    s.set(msg('f', 'kept', Date.now() + 60_000));
    expect(topics(s, '#')).toEqual(['f']);
    expect(s.size).toBe(1);
  });
});
