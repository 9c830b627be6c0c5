/** The router's binding hook: a bound message is taken over (delivered later through `route`), observers still see it. */
import { describe, expect, it } from 'vitest';
import { createMessage, type MqttMessage, type Subscriber } from '../../runtime/core/mqtt/message.js';
import { RetainedStore } from '../../runtime/core/mqtt/retained.js';
import { MqttRouter } from '../../runtime/core/mqtt/router.js';

const options = { qos: 1 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const };

function setup() {
  const router = new MqttRouter(new RetainedStore());
  const got: string[] = [];
  const sub: Subscriber = { clientId: 's', online: true, deliver: (m) => void got.push(m.payload.toString()) };
  router.subscribe(sub, '#', options);
  const seen: string[] = [];
  router.addObserver((m) => seen.push(m.payload.toString()));
  const claimed: MqttMessage[] = [];
  let release!: () => void;
  const stored = new Promise<void>((r) => (release = r));
  router.setBinding((m) => (m.topic.startsWith('bound/') ? (claimed.push(m), stored) : undefined));
  return { router, got, seen, claimed, release, stored };
}

describe('MqttRouter binding', () => {
  it('leaves unbound messages to the router and takes bound ones over, returning the promise to wait for', async () => {
    const { router, got, seen, claimed, release, stored } = setup();
    expect(router.publish(createMessage('free/x', Buffer.from('a'), 1, false))).toBeUndefined();
    const pending = router.publish(createMessage('bound/x', Buffer.from('b'), 1, true));
    expect(pending).toBe(stored);
    expect(got).toEqual(['a']);
    expect(seen).toEqual(['a', 'b']);
    // Not retained either until it is routed.
    expect(router.retained.get('bound/x')).toBeUndefined();
    release();
    router.route(claimed[0]);
    expect(got).toEqual(['a', 'b']);
    expect(router.retained.get('bound/x')?.payload.toString()).toBe('b');
    await pending;
  });

  it('observe() shows a message to observers without delivering it; route() delivers without observers', () => {
    const { router, got, seen } = setup();
    router.observe(createMessage('bound/y', Buffer.from('c'), 0, false));
    expect(seen).toEqual(['c']);
    expect(got).toEqual([]);
    router.route(createMessage('bound/y', Buffer.from('d'), 0, false));
    expect(got).toEqual(['d']);
    expect(seen).toEqual(['c']);
    router.setBinding(undefined);
    router.publish(createMessage('bound/y', Buffer.from('e'), 0, false));
    expect(got).toEqual(['d', 'e']);
  });
});
