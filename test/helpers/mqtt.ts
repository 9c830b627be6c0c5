/** Helpers for MQTT tests: a node with MQTT listeners, mqtt.js clients, a raw packet-level client, waiting. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { NodeConfigInput } from '../../runtime/config/schema.js';
import type { MqttAuthHooks } from '../../runtime/core/mqtt/auth.js';
import { createMqttServer, type MqttServer } from '../../protocols/mqtt/server.js';
import { startTestNode, type TestNode } from './node.js';

export interface MqttTestNode extends TestNode {
  readonly mqttUrl: string;
  readonly wsUrl: string;
  readonly server: MqttServer;
}

/** A node running only the MQTT front-end (fast to start), $SYS off unless asked for. */
export async function startMqttNode(overrides: Partial<NodeConfigInput> = {}, auth?: MqttAuthHooks): Promise<MqttTestNode> {
  let server: MqttServer | undefined;
  const node = await startTestNode(
    { mqttSysIntervalMs: 0, ...overrides },
    { protocols: [(ctx) => (server = createMqttServer(ctx, { auth }))] },
  );
  return {
    ...node,
    server: server!,
    mqttUrl: `mqtt://127.0.0.1:${node.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${node.ports.ws}/mqtt`,
  };
}

/** An mqtt.js client that never reconnects by itself (tests decide). */
export function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

export interface Received {
  topic: string;
  payload: string;
  packet: mqttPacket.IPublishPacket;
}

/** Records every message a client receives. */
export function collect(client: MqttClient): Received[] {
  const out: Received[] = [];
  client.on('message', (topic, payload, packet) => out.push({ topic, payload: payload.toString(), packet }));
  return out;
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Ends clients gracefully (what they wrote is sent first), forcing after a second. */
export async function endAll(...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      if (!c) return;
      const timer = setTimeout(() => c.end(true), 1000);
      await c.endAsync(false).catch(() => undefined);
      clearTimeout(timer);
    }),
  );
}

/**
 * A packet-level client over a raw socket: sends what it is told (packets or bytes), parses what comes back.
 * For the cases real clients refuse to produce: malformed packets, duplicate QoS 2 publishes, resumes.
 */
export class RawClient {
  readonly packets: mqttPacket.Packet[] = [];
  closed = false;
  private readonly parser: mqttPacket.Parser;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: net.Socket,
    public version: 3 | 4 | 5,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p: mqttPacket.Packet) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on('data', (d: Buffer) => this.parser.parse(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, version: 3 | 4 | 5 = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket, version)));
      socket.once('error', reject);
    });
  }

  send(packet: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  sendBytes(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  /** CONNECT and wait for CONNACK. */
  async connect(options: Partial<mqttPacket.IConnectPacket> = {}): Promise<mqttPacket.IConnackPacket> {
    this.send({
      cmd: 'connect',
      protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clientId: 'raw',
      clean: true,
      keepalive: 0,
      ...options,
    } as mqttPacket.IConnectPacket);
    return (await this.next('connack')) as mqttPacket.IConnackPacket;
  }

  /** The next received packet of `cmd` (consumed from the list). */
  async next(cmd: mqttPacket.PacketCmd, timeoutMs = 3000): Promise<mqttPacket.Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0];
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${cmd}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    await waitFor(() => this.closed, timeoutMs, 'the server to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * Connects and also returns the CONNACK (session present, v5 properties) and every message received from the
 * start (queued messages can arrive in the same read as the CONNACK).
 */
export function connectWithConnack(
  url: string,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; connack: mqttPacket.IConnackPacket; got: Received[] }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    const got = collect(client);
    client.once('connect', (connack) => resolve({ client, connack, got }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Runs a Mosquitto command-line client (mosquitto_pub / mosquitto_sub) and resolves with its output. */
export function mosquitto(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
