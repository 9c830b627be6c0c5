/**
 * TcpTransport and WsTransport over real loopback connections: a peer that keeps sending lets the event loop go
 * round after a read budget (so file I/O and other sockets are not starved), without losing bytes, and a pause
 * asked for by the connection holds even when it comes while the transport is taking such a break.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { TcpTransport, WsTransport, type Transport, type TransportHandler } from '../../protocols/mqtt/transport.js';

const MB = 1024 * 1024;
let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

interface Pair {
  transport: Transport;
  /** Spied on: what the transport pauses to take a break. */
  source: { pause(): void };
  send(data: Buffer): void;
}

/** A connected TCP pair: the server side wrapped in a TcpTransport, the client side raw. */
async function tcpPair(handler: (t: Transport) => TransportHandler): Promise<Pair> {
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  const transport = new TcpTransport(server);
  transport.start(handler(transport));
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { transport, source: server, send: (data) => void client.write(data) };
}

/** A connected WebSocket pair: the server side wrapped in a WsTransport; the client sends 64 KiB binary frames. */
async function wsPair(handler: (t: Transport) => TransportHandler): Promise<Pair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/mqtt`);
  await new Promise<void>((r, j) => client.once('open', r).once('error', j));
  const server = await accepted;
  const transport = new WsTransport(server, 'test');
  transport.start(handler(transport));
  cleanup.push(() => {
    client.terminate();
    server.terminate();
    wss.close();
  });
  const send = (data: Buffer): void => {
    for (let at = 0; at < data.length; at += 64 * 1024) client.send(data.subarray(at, at + 64 * 1024), { binary: true });
  };
  return { transport, source: server, send };
}

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe.each([
  ['TcpTransport', tcpPair],
  ['WsTransport', wsPair],
] as const)('%s', (_name, pair) => {
  it('takes breaks while a peer floods it, and still receives every byte in order', async () => {
    const chunks: Buffer[] = [];
    const { source, send } = await pair(() => ({ onData: (c) => void chunks.push(c), onDrain: () => undefined, onClose: () => undefined }));
    const pauses = vi.spyOn(source, 'pause');
    const sent = Buffer.alloc(4 * MB);
    for (let i = 0; i < sent.length; i++) sent[i] = i % 251;
    send(sent);
    await until(() => chunks.reduce((n, c) => n + c.length, 0) >= sent.length, '4 MiB');
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
    expect(pauses).toHaveBeenCalled();
  });

  it('stays paused when the connection pauses it during a break, until the connection resumes it', async () => {
    let received = 0;
    let pausedAt = -1;
    const { transport, send } = await pair((t) => ({
      onData: (c) => {
        received += c.length;
        // Past the read budget the transport is on a break; the connection now asks for a pause of its own.
        if (pausedAt < 0 && received >= MB) {
          t.pause();
          pausedAt = received;
        }
      },
      onDrain: () => undefined,
      onClose: () => undefined,
    }));
    send(Buffer.alloc(8 * MB));
    await until(() => pausedAt >= 0, 'the pause');
    for (let i = 0; i < 20; i++) await immediate();
    await new Promise((r) => setTimeout(r, 50));
    // At most what had already been read off the socket in that turn arrives after the pause.
    expect(received - pausedAt).toBeLessThan(MB);
    const held = received;
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(held);
    transport.resume();
    await until(() => received >= 8 * MB, 'the rest after resume');
    expect(received).toBe(8 * MB);
  });
});
