/**
 * Login attempts over real sockets from a chosen local address (any of 127.0.0.0/8 on Linux), for the login-flood
 * tests and bench/login-flood.ts: a raw MQTT CONNECT answered by its CONNACK code, a raw Kafka SASL/PLAIN login,
 * mqtt.js and kafkajs clients bound to a local address, and counters read from a node's /metrics.
 */
import net from 'node:net';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { MqttClient, type IClientOptions } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { decode } from '../../protocols/kafka/codec/codec.js';
import { FrameSplitter } from '../../protocols/kafka/codec/frame.js';
import { responseHeaderFlexible } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { apiOf, requestFrame } from './kafka-raw.js';

export interface MqttLogin {
  readonly port: number;
  readonly version: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  readonly localAddress?: string;
}

/** One CONNECT on a fresh socket: the CONNACK's reason code (v5) or return code (3.1.1); null if closed without one. */
export function mqttConnectCode({ port, version, username, password, localAddress = '127.0.0.1' }: MqttLogin, timeoutMs = 60_000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const parser = mqttPacket.parser({ protocolVersion: version });
    const done = (code: number | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connack') done((version === 5 ? p.reasonCode : p.returnCode) ?? null);
    });
    socket.on('data', (d: Buffer) => parser.parse(d));
    socket.on('close', () => done(null));
    socket.on('error', () => done(null));
    const connect: mqttPacket.IConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clientId: '',
      clean: true,
      keepalive: 0,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password: Buffer.from(password) } : {}),
    };
    socket.write(mqttPacket.generate(connect, { protocolVersion: version }));
  });
}

/** An mqtt.js client whose socket is bound to `localAddress`; rejects with the CONNACK error when refused. */
export function mqttClientFrom(localAddress: string, port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = new MqttClient(() => net.connect({ host: '127.0.0.1', port, localAddress }), {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export interface SaslAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * SaslHandshake v1 PLAIN then SaslAuthenticate v2 on a fresh socket from `localAddress`: the SaslAuthenticate
 * answer, or null when the connection closed before it.
 */
export function kafkaPlainLogin(port: number, user: string, password: string, localAddress = '127.0.0.1', timeoutMs = 60_000): Promise<SaslAnswer | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const splitter = new FrameSplitter(1024 * 1024);
    let frames = 0;
    const done = (answer: SaslAnswer | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      for (const e of splitter.push(chunk)) {
        if (!('frame' in e)) return done(null);
        if (++frames === 1) {
          socket.write(requestFrame(36, 2, 2, { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) }));
        } else {
          const r = new Reader(e.frame);
          r.int32(); // correlation id
          if (responseHeaderFlexible(36, true)) r.uvarint(); // header tags
          const body = decode(apiOf(36).response, r, 2, true) as SaslAnswer;
          done({ errorCode: body.errorCode, errorMessage: body.errorMessage });
        }
      }
    });
    socket.on('close', () => done(null));
    socket.on('error', () => done(null));
    socket.write(requestFrame(17, 1, 1, { mechanism: 'PLAIN' }));
  });
}

/** A kafkajs client whose sockets are all bound to `localAddress`. */
export function kafkajsFrom(localAddress: string, port: number, sasl: SASLOptions): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'login-guard',
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 10_000,
    authenticationTimeout: 10_000,
    sasl,
    socketFactory: ({ host, port: p, onConnect }) => net.connect({ host, port: p, localAddress }, onConnect),
  });
}

/** A counter's value for one protocol label from the node's Prometheus endpoint. */
export async function metricValue(adminPort: number, name: string, protocol: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = new RegExp(`^${name}\\{protocol="${protocol}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Runs `count` calls of `attempt`, at most `concurrency` at once; the results in call order. */
export async function flood<T>(count: number, concurrency: number, attempt: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await attempt(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
