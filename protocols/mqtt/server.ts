/**
 * The MQTT front-end of a node: a TCP listener on `mqttPort` and a WebSocket listener on `wsPort` (path `/mqtt`,
 * subprotocol `mqtt` or `mqttv3.1`), both feeding one MqttBroker.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { BrokerContext, ProtocolServer } from '../../runtime/context.js';
import type { MqttAuthHooks } from '../../runtime/core/mqtt/auth.js';
import { MqttBroker } from './broker.js';
import { TcpTransport, WsTransport } from './transport.js';

export const WS_PATH = '/mqtt';
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

export interface MqttServer extends ProtocolServer {
  readonly broker: MqttBroker;
}

export function createMqttServer(ctx: BrokerContext, options: { auth?: MqttAuthHooks } = {}): MqttServer {
  const broker = new MqttBroker(ctx, options);
  const sockets = new Set<Socket>();
  let tcp: TcpServer | undefined;
  let http: HttpServer | undefined;
  let wss: WebSocketServer | undefined;

  const listenOn = (server: TcpServer | HttpServer, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, ctx.config.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  return {
    name: 'mqtt',
    broker,
    async listen() {
      await broker.start();
      tcp = createTcpServer({ noDelay: true }, (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        broker.accept(new TcpTransport(socket));
      });
      const mqttPort = await listenOn(tcp, ctx.config.mqttPort);

      http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
      });
      wss = new WebSocketServer({
        server: http,
        path: WS_PATH,
        maxPayload: broker.limits.maxPacketSize + (1 << 20), // one frame may carry several packets [MQTT-6.0.0-2]
        perMessageDeflate: false,
        handleProtocols: (protocols) => SUBPROTOCOLS.find((p) => protocols.has(p)) ?? false,
      });
      wss.on('connection', (ws, req) => {
        const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
        broker.accept(new WsTransport(ws, remote));
      });
      const wsPort = await listenOn(http, ctx.config.wsPort);
      ctx.log.info({ mqttPort, wsPort }, 'mqtt listening');
      return { mqtt: mqttPort, ws: wsPort };
    },
    async close() {
      const closing = [tcp, http].map(
        (server) => new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve())),
      );
      await broker.close();
      for (const s of sockets) s.destroy();
      for (const ws of wss?.clients ?? []) ws.terminate();
      wss?.close();
      http?.closeAllConnections();
      await Promise.all(closing);
    },
  };
}
