/**
 * The MQTT front-end of a node: MQTT over TCP on `mqttPort` and over WebSocket on `wsPort` (path `/mqtt`), and with
 * --tls-cert also MQTTS on `mqttTlsPort` and secure WebSocket on `wssPort` (--no-plain-listeners: only those), all
 * feeding one MqttBroker. Credentials and ACLs come from the node's AuthService (runtime/core/auth) unless a test
 * passes its own hooks; connection limits and the memory guard apply to every socket (admission.ts).
 */
import type { BrokerContext, ProtocolServer } from '../../runtime/context.js';
import { authOf } from '../../runtime/core/auth/service.js';
import { mqttAuthHooks } from '../../runtime/core/auth/mqtt-hooks.js';
import { allowAll, type MqttAuthHooks } from '../../runtime/core/mqtt/auth.js';
import { RobustMQError } from '../../runtime/errors.js';
import { loadTlsOptions } from '../../runtime/tls.js';
import { Admission } from './admission.js';
import { MqttBroker } from './broker.js';
import { ClusterMqtt } from './cluster-forward.js';
import { openTcpListener, openWebSocketListener, type Listener, type ListenerDeps } from './listeners.js';

export { WS_PATH } from './listeners.js';

export interface MqttServer extends ProtocolServer {
  readonly broker: MqttBroker;
}

export function createMqttServer(ctx: BrokerContext, options: { auth?: MqttAuthHooks } = {}): MqttServer {
  const auth = authOf(ctx);
  // With --auth off the node's hooks allow everything anyway: skip them on the per-message path.
  const hooks = options.auth ?? (auth.enabled ? mqttAuthHooks(auth) : allowAll);
  const broker = new MqttBroker(ctx, { ...options, auth: hooks });
  const admission = new Admission(ctx, ctx.log);
  const listeners: Listener[] = [];
  // On a cluster broker: forwarding to and from the other brokers (cluster-forward.ts).
  const cluster = ctx.cluster ? new ClusterMqtt(broker, ctx.cluster) : undefined;
  const deps: ListenerDeps = {
    host: ctx.config.host,
    admission,
    connectTimeoutMs: ctx.config.mqttConnectTimeoutMs,
    maxPacketSize: broker.limits.maxPacketSize,
    log: ctx.log,
    serve: (transport, socket, certificateUser) => {
      broker.accept(admission.guard(transport, socket)).certificateUser = certificateUser;
    },
  };
  const open = async (listener: Promise<Listener>): Promise<number> => {
    const l = await listener;
    listeners.push(l);
    return l.port;
  };

  return {
    name: 'mqtt',
    broker,
    async listen() {
      const tls = loadTlsOptions(ctx.config);
      if (!ctx.config.plainListeners && !tls) {
        throw new RobustMQError('INVALID_ARGUMENT', '--no-plain-listeners needs --tls-cert and --tls-key (no listener would be left)');
      }
      await auth.start();
      await broker.start();
      admission.start();
      const ports: Record<string, number> = {};
      if (ctx.config.plainListeners) {
        ports.mqtt = await open(openTcpListener(deps, ctx.config.mqttPort));
        ports.ws = await open(openWebSocketListener(deps, ctx.config.wsPort));
      }
      if (tls) {
        ports.mqttTls = await open(openTcpListener(deps, ctx.config.mqttTlsPort, tls));
        ports.wss = await open(openWebSocketListener(deps, ctx.config.wssPort, tls));
      }
      if (cluster) ports.mqttInternal = await cluster.start();
      ctx.log.info({ ...ports, auth: ctx.config.auth }, 'mqtt listening');
      return ports;
    },
    async close() {
      const current = listeners.splice(0);
      const closed = current.map((l) => l.close());
      await broker.close();
      await cluster?.stop();
      for (const l of current) l.drop();
      await Promise.all(closed);
      admission.stop();
    },
  };
}
