/**
 * Broker-to-broker connections (runtime/cluster/transport.ts) against a small framed echo server behind the peer
 * TLS-PSK listener (runtime/cluster/peer-tls.ts): one request per connection at a time (a slow request does not hold
 * up others), idle connections are reused, failures are typed; a pool or a raw socket without the cluster secret
 * gets nothing through, and each refusal is counted and logged with its address.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPeerServer, peerCredential } from '../../runtime/cluster/peer-tls.js';
import { PeerError, PeerPool } from '../../runtime/cluster/transport.js';
import { pino } from 'pino';

const SECRET = 'test-cluster-secret-0123456789abcdef';
const OTHER_SECRET = 'another-cluster-secret-0123456789abcdef';
const servers: net.Server[] = [];
const pools: PeerPool[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Answers each frame with its body reversed, after `delay(body)` ms (or once that promise resolves); counts connections. */
async function echo(
  delay: (body: string) => number | Promise<void> = () => 0,
): Promise<{ port: number; connections: () => number; refused: () => number; bodies: string[]; peers: string[]; logs: string[] }> {
  let connections = 0;
  let refused = 0;
  const bodies: string[] = [];
  const peers: string[] = [];
  const logs: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
  const server = createPeerServer({ credential: peerCredential('server', SECRET), listener: 'test', log, refused: () => refused++, onPeer: (socket, peer) => {
    connections++;
    peers.push(peer);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const body = buf.subarray(4, 4 + buf.readInt32BE(0)).toString();
        bodies.push(body);
        buf = buf.subarray(4 + body.length);
        const answer = Buffer.from([...body].reverse().join(''));
        const size = Buffer.alloc(4);
        size.writeInt32BE(answer.length);
        const wait = delay(body);
        const send = (): void => void socket.write(Buffer.concat([size, answer]));
        if (typeof wait === 'number') setTimeout(send, wait);
        else void wait.then(send);
      }
    });
    socket.on('error', () => undefined);
  } });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections, refused: () => refused, bodies, peers, logs };
}

function pool(ports: Record<string, number>, secret = SECRET): PeerPool {
  const p = new PeerPool((id) => (ports[id] === undefined ? undefined : { host: '127.0.0.1', port: ports[id] }), peerCredential('client-broker', secret));
  pools.push(p);
  return p;
}

const ask = async (p: PeerPool, id: string, body: string, timeoutMs = 10_000): Promise<string> =>
  (await p.request(id, [Buffer.from(body)], { expectResponse: true, timeoutMs }))!.toString();

describe('PeerPool', () => {
  it('exchanges frames, reuses an idle connection, and runs concurrent requests on separate ones', async () => {
    // 'slow' is answered only once the test says so, after 'quick' was: no timing bound. Were 'quick' queued behind
    // 'slow', 'slow' would settle first (timing out) and the order check fail.
    let answerSlow!: () => void;
    const slowHeld = new Promise<void>((resolve) => (answerSlow = resolve));
    const server = await echo((body) => (body === 'slow' ? slowHeld : 0));
    const p = pool({ b1: server.port });
    expect(await ask(p, 'b1', 'abc')).toBe('cba');
    expect(await ask(p, 'b1', 'def')).toBe('fed');
    expect(server.connections()).toBe(1);
    const settled: string[] = [];
    const slow = ask(p, 'b1', 'slow').finally(() => settled.push('slow'));
    slow.catch(() => undefined); // awaited below
    try {
      expect(await ask(p, 'b1', 'quick').finally(() => settled.push('quick'))).toBe('kciuq');
      expect(settled).toEqual(['quick']);
    } finally {
      answerSlow();
    }
    expect(await slow).toBe('wols');
    expect(settled).toEqual(['quick', 'slow']);
    expect(server.connections()).toBe(2);
  });

  it('sends without waiting when no answer is expected', async () => {
    const server = await echo();
    const p = pool({ b1: server.port });
    expect(await p.request('b1', [Buffer.from('x')], { expectResponse: false, timeoutMs: 100 })).toBeNull();
  });

  it('fails with unreachable for an unknown or refusing peer, and timeout when no answer comes', async () => {
    const server = await echo(() => 1000);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const refusing = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const p = pool({ b1: server.port, b2: refusing });
    await expect(ask(p, 'nobody', 'x')).rejects.toMatchObject({ kind: 'unreachable' });
    await expect(ask(p, 'b2', 'x')).rejects.toMatchObject({ kind: 'unreachable' });
    const err = await ask(p, 'b1', 'late', 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).kind).toBe('timeout');
  });

  it('refuses a pool holding another cluster\'s secret before any frame is read', async () => {
    const server = await echo();
    const p = pool({ b1: server.port }, OTHER_SECRET);
    await expect(ask(p, 'b1', 'hello')).rejects.toMatchObject({ kind: 'unreachable' });
    await until(() => server.refused() === 1);
    expect(server.connections()).toBe(0);
    expect(server.bodies).toEqual([]);
    // The right secret still works, and the server learns the identity the peer presented.
    expect(await ask(pool({ b1: server.port }), 'b1', 'ok')).toBe('ko');
    expect(server.peers).toEqual(['client-broker']);
  });

  it('closes a raw TCP client that sends a frame in the clear, counts it and logs its address', async () => {
    const server = await echo();
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const frame = Buffer.alloc(9);
    frame.writeInt32BE(5, 0);
    frame.write('hello', 4);
    socket.write(frame);
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    await new Promise<void>((r) => socket.once('close', () => r()));
    expect(server.bodies).toEqual([]);
    expect(server.connections()).toBe(0);
    // Whatever came back is a TLS alert, never an answer frame.
    expect(Buffer.concat(received).includes(Buffer.from('olleh'))).toBe(false);
    await until(() => server.refused() === 1);
    const line = server.logs.map((l) => JSON.parse(l) as { msg: string; remoteAddress: string }).find((l) => /internal listener/.test(l.msg));
    expect(line?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
