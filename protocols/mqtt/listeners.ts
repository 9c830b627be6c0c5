/**
 * The four MQTT listeners, each plain or over TLS: MQTT over TCP (1883) and MQTTS (8883), MQTT over WebSocket (8083)
 * and over secure WebSocket (8084), path `/mqtt`, subprotocol `mqtt` or `mqttv3.1`. Every raw socket is admitted
 * (connection limits) before any TLS, HTTP or MQTT work; a client that finishes neither its TLS handshake nor its
 * HTTP upgrade within the CONNECT timeout is dropped, and one that then sends no CONNECT in time is closed by the
 * broker's sweep.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../runtime/logger.js';
import { verifiedPeerName } from '../../runtime/tls.js';
import type { Admission } from './admission.js';
import { TcpTransport, WsTransport, type Transport } from './transport.js';

export const WS_PATH = '/mqtt';
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

export interface ListenerDeps {
  readonly host: string;
  readonly admission: Admission;
  readonly connectTimeoutMs: number;
  readonly maxPacketSize: number;
  readonly log: Logger;
  /**
   * Hands a connection to the broker; `socket` is what it reads from (for WebSocket the upgraded socket), and
   * `certificateUser` the CN of a verified TLS client certificate.
   */
  serve(transport: Transport, socket: Socket, certificateUser: string | undefined): void;
}

export interface Listener {
  readonly port: number;
  /** Stops accepting; resolves once every connection of the listener is gone. */
  close(): Promise<void>;
  /** Drops the connections still open (after the broker said goodbye to them). */
  drop(): void;
}

/** node:tls reports a failed or timed-out handshake (handshakeTimeout) without closing the socket: close it here. */
function handshakeFailed(log: Logger, err: Error, socket: TLSSocket): void {
  log.debug({ err, remoteAddress: socket.remoteAddress }, 'mqtt TLS handshake failed');
  socket.destroy();
}

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** MQTT over TCP, or MQTTS with `tls`. */
export async function openTcpListener(deps: ListenerDeps, port: number, tls?: TlsOptions): Promise<Listener> {
  const sockets = new Set<Socket>();
  const serve = (socket: Socket, certificateUser: string | undefined): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    deps.serve(new TcpTransport(socket), socket, certificateUser);
  };
  let server: Server;
  if (tls) {
    server = createTlsServer({ ...tls, handshakeTimeout: deps.connectTimeoutMs });
    // 'connection' sees the raw socket before the handshake: limits apply before any TLS work is done.
    server.on('connection', (socket: Socket) => deps.admission.admit(socket));
    server.on('secureConnection', (socket: TLSSocket) => serve(socket, verifiedPeerName(socket)));
    server.on('tlsClientError', (err, socket) => handshakeFailed(deps.log, err, socket));
  } else {
    server = createTcpServer({ noDelay: true }, (socket) => deps.admission.admit(socket) && serve(socket, undefined));
  }
  const bound = await listenOn(server, port, deps.host);
  server.on('error', (err) => deps.log.error({ err }, 'mqtt listener error'));
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    drop: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/** MQTT over WebSocket, or over secure WebSocket with `tls`. */
export async function openWebSocketListener(deps: ListenerDeps, port: number, tls?: TlsOptions): Promise<Listener> {
  const refuse = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
  };
  // Slow HTTP upgrades are dropped after the CONNECT timeout (checked about once a second).
  const t = deps.connectTimeoutMs;
  const httpOptions = { headersTimeout: t, requestTimeout: t, connectionsCheckingInterval: Math.min(t, 1000) };
  const http: HttpServer = tls ? createHttpsServer({ ...tls, ...httpOptions, handshakeTimeout: t }, refuse) : createHttpServer(httpOptions, refuse);
  http.on('connection', (socket: Socket) => deps.admission.admit(socket));
  if (tls) http.on('tlsClientError', (err: Error, socket: TLSSocket) => handshakeFailed(deps.log, err, socket));
  const wss = new WebSocketServer({
    server: http,
    path: WS_PATH,
    maxPayload: deps.maxPacketSize + (1 << 20), // one frame may carry several packets [MQTT-6.0.0-2]
    perMessageDeflate: false,
    handleProtocols: (protocols) => SUBPROTOCOLS.find((p) => protocols.has(p)) ?? false,
  });
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    deps.serve(new WsTransport(ws, remote), req.socket, tls ? verifiedPeerName(req.socket as TLSSocket) : undefined);
  });
  wss.on('error', (err) => deps.log.error({ err }, 'mqtt websocket listener error'));
  const bound = await listenOn(http, port, deps.host);
  http.on('error', (err) => deps.log.error({ err }, 'mqtt websocket listener error'));
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => (http.listening ? http.close(() => resolve()) : resolve())),
    drop: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      http.closeAllConnections();
    },
  };
}
