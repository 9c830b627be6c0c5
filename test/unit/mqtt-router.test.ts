import { describe, expect, it } from 'vitest';
import { Deque } from '../../runtime/core/mqtt/deque.js';
import { createMessage, type MqttMessage, type QoS, type Subscriber } from '../../runtime/core/mqtt/message.js';
import { RetainedStore } from '../../runtime/core/mqtt/retained.js';
import { MqttRouter } from '../../runtime/core/mqtt/router.js';

interface Got {
  msg: MqttMessage;
  qos: QoS;
  retain: boolean;
  shareKey?: string;
}

function subscriber(clientId: string, options: { online?: boolean; persist?: Promise<void> } = {}) {
  const got: Got[] = [];
  const s: Subscriber = {
    clientId,
    online: options.online ?? true,
    deliver: (msg, qos, retain, _ids, shareKey) => {
      got.push({ msg, qos, retain, shareKey });
      return options.persist;
    },
  };
  return { s, got };
}

const base = { noLocal: false, retainAsPublished: false, retainHandling: 0 as const };

describe('MqttRouter', () => {
  it('delivers with min(granted, published) QoS, strips RETAIN unless Retain As Published, honours No Local', () => {
    const r = new MqttRouter(new RetainedStore());
    const a = subscriber('a');
    const b = subscriber('b');
    r.subscribe(a.s, 't/+', { ...base, qos: 1 });
    r.subscribe(b.s, 't/#', { ...base, qos: 2, retainAsPublished: true, noLocal: true });
    r.publish(createMessage('t/x', Buffer.from('1'), 2, true, { origin: 'a' }));
    r.publish(createMessage('t/x', Buffer.from('2'), 0, false, { origin: 'b' }));
    expect(a.got.map((g) => [g.msg.payload.toString(), g.qos, g.retain])).toEqual([
      ['1', 1, false],
      ['2', 0, false],
    ]);
    expect(b.got.map((g) => [g.msg.payload.toString(), g.qos, g.retain])).toEqual([['1', 2, true]]);
  });

  it('keeps the match cache in step with subscription changes', () => {
    const r = new MqttRouter(new RetainedStore());
    const a = subscriber('a');
    r.publish(createMessage('c', Buffer.from('none'), 0, false));
    r.subscribe(a.s, 'c', { ...base, qos: 0 });
    r.publish(createMessage('c', Buffer.from('one'), 0, false));
    r.unsubscribe(a.s, 'c');
    r.publish(createMessage('c', Buffer.from('gone'), 0, false));
    expect(a.got.map((g) => g.msg.payload.toString())).toEqual(['one']);
    expect(r.unrouted).toBe(2);
  });

  it('calls publish observers (the cross-protocol hook) and stores retained messages', () => {
    const r = new MqttRouter(new RetainedStore());
    const seen: string[] = [];
    const off = r.addObserver((m) => seen.push(m.topic));
    r.publish(createMessage('obs/1', Buffer.from('x'), 0, true));
    off();
    r.publish(createMessage('obs/2', Buffer.from('x'), 0, false));
    expect(seen).toEqual(['obs/1']);
    expect(r.retained.get('obs/1')?.payload.toString()).toBe('x');
  });

  it('returns a promise only when a delivery had to be persisted, and redistributes shared messages', async () => {
    const r = new MqttRouter(new RetainedStore());
    let release!: () => void;
    const persisted = new Promise<void>((res) => (release = res));
    const off = subscriber('off', { online: false, persist: persisted });
    const on = subscriber('on');
    r.subscribe(off.s, 'p', { ...base, qos: 1 });
    r.subscribe(on.s, '$share/g/p', { ...base, qos: 1 });
    const pending = r.publish(createMessage('p', Buffer.from('x'), 1, false));
    expect(pending).toBeInstanceOf(Promise);
    release();
    await pending;
    expect(on.got[0].shareKey).toBe('$share/g/p');
    const other = subscriber('other');
    r.subscribe(other.s, '$share/g/p', { ...base, qos: 1 });
    expect(r.redistribute('$share/g/p', on.got[0].msg, on.s)).toBe(true);
    expect(other.got.map((g) => g.msg.payload.toString())).toEqual(['x']);
    expect(r.redistribute('$share/none/p', on.got[0].msg, on.s)).toBe(false);
  });
});

describe('Deque', () => {
  it('is a FIFO across growth and wrap-around, with removal and filtering', () => {
    const d = new Deque<number>();
    const model: number[] = [];
    for (let i = 0; i < 100; i++) {
      d.push(i);
      model.push(i);
      if (i % 3 === 0) expect(d.shift()).toBe(model.shift());
    }
    expect([...d]).toEqual(model);
    expect(d.removeFirst((x) => x % 2 === 1)).toBe(true);
    model.splice(model.findIndex((x) => x % 2 === 1), 1);
    expect([...d]).toEqual(model);
    d.filter((x) => x > 50);
    expect([...d]).toEqual(model.filter((x) => x > 50));
    expect(d.length).toBe(model.filter((x) => x > 50).length);
  });
});
