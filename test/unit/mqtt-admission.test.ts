/**
 * The pieces of the MQTT front-end's protection that need no sockets: the publish-rate token bucket, the memory
 * guard in front of a transport (its pauses and the connection's own are kept apart), and the refusal of packets
 * whose v5 properties mqtt-packet could not read.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MemoryGuard } from '../../runtime/core/memory-guard.js';
import { GuardedTransport } from '../../protocols/mqtt/admission.js';
import { hasUnreadableProperty } from '../../protocols/mqtt/property-check.js';
import { PublishRate } from '../../protocols/mqtt/publish-rate.js';
import type { Transport, TransportHandler } from '../../protocols/mqtt/transport.js';

describe('PublishRate', () => {
  it('lets one second of messages through at once, then one per 1/rate s, and says how long to wait', () => {
    const rate = new PublishRate(10, 0);
    for (let i = 0; i < 10; i++) expect(rate.take(0)).toBe(0);
    expect(rate.take(0)).toBe(100);
    expect(rate.take(50)).toBe(50);
    expect(rate.take(100)).toBe(0);
    expect(rate.take(100)).toBe(100);
    // An idle publisher saves up at most one second's worth.
    let passed = 0;
    while (rate.take(60_000) === 0) passed++;
    expect(passed).toBe(10);
  });
});

/** A transport that records pause/resume and lets the test push bytes. */
class FakeTransport implements Transport {
  readonly kind = 'tcp';
  readonly remoteAddress = 'fake:1';
  readonly bufferedBytes = 0;
  paused = false;
  handler: TransportHandler | undefined;
  start(handler: TransportHandler): void {
    this.handler = handler;
  }
  write(): boolean {
    return true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {}
  destroy(): void {}
}

describe('GuardedTransport', () => {
  function setup() {
    let rss = 0;
    const guard = new MemoryGuard(1000, { sample: () => ({ rss, live: rss }), checkEveryBytes: 1 });
    const release = guard.acquire();
    const inner = new FakeTransport();
    const socket = new EventEmitter() as Socket;
    const transport = new GuardedTransport(inner, socket, guard);
    const read: number[] = [];
    transport.start({ onData: (c) => read.push(c.length), onDrain: () => undefined, onClose: () => undefined });
    const receive = (n: number) => {
      const chunk = Buffer.alloc(n);
      socket.emit('data', chunk);
      inner.handler!.onData(chunk);
    };
    return { guard, inner, transport, read, receive, release, setRss: (v: number) => (rss = v) };
  }

  it('pauses reading when the guard is above its watermark and resumes when it drained, counting the socket bytes', () => {
    const t = setup();
    t.receive(10);
    expect(t.inner.paused).toBe(false);
    t.setRss(2000);
    t.receive(10);
    expect(t.guard.paused).toBe(true);
    expect(t.inner.paused).toBe(true);
    t.setRss(100);
    t.guard.check();
    expect(t.inner.paused).toBe(false);
    // The resume tells the connection it read again (an empty chunk), so the wait does not count against keep alive.
    expect(t.read).toEqual([10, 10, 0]);
    t.release();
  });

  it('keeps the connection paused when it asked for it, whatever the guard does, and vice versa', () => {
    const t = setup();
    t.transport.pause(); // e.g. the publish rate
    t.setRss(2000);
    t.receive(1);
    t.setRss(100);
    t.guard.check();
    expect(t.inner.paused).toBe(true);
    t.transport.resume();
    expect(t.inner.paused).toBe(false);
    t.setRss(2000);
    t.receive(1);
    t.transport.pause();
    t.transport.resume(); // the connection is done waiting, the guard is not
    expect(t.inner.paused).toBe(true);
    t.setRss(100);
    t.guard.check();
    expect(t.inner.paused).toBe(false);
    t.release();
  });
});

describe('hasUnreadableProperty', () => {
  const parse = (bytes: Buffer): mqtt.Packet => {
    const parser = mqtt.parser({ protocolVersion: 5 });
    let packet: mqtt.Packet | undefined;
    parser.on('packet', (p: mqtt.Packet) => (packet = p));
    parser.on('error', (err: Error) => expect.fail(err.message));
    parser.parse(bytes);
    return packet!;
  };

  it('refuses a v5 PUBLISH whose User Property value length runs past the packet, and passes a good one', () => {
    const good = mqtt.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('p'), qos: 0, dup: false, retain: false, properties: { responseTopic: 'r', userProperties: { k: 'v' } } }, { protocolVersion: 5 });
    expect(hasUnreadableProperty(parse(good))).toBe(false);
    // Found by test/fuzz/mqtt-connection.test.ts: properties of 7 bytes holding a User Property ('$', then a value of
    // 0x0bb3 bytes); mqtt-packet emits the packet with that value, and a Response Topic, as null.
    const bad = Buffer.from('301c000e73656e736f72732f782f74656d7007260001240bb3088d59e666b76d2694e5f7f7248b81b6', 'hex').subarray(0, 30);
    const packet = parse(bad) as mqtt.IPublishPacket;
    expect(packet.properties?.responseTopic).toBeNull();
    expect(hasUnreadableProperty(packet)).toBe(true);
  });
});
