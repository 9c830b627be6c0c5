/**
 * A raw Kafka connection for protocol tests: sends requests encoded with the broker's own message descriptions
 * (any version, flexible ones included) or arbitrary bytes, and reads response frames in arrival order.
 */
import net from 'node:net';
import { KAFKA_APIS } from '../../protocols/kafka/apis/index.js';
import { isFlexible, type AnyKafkaApi } from '../../protocols/kafka/apis/types.js';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { FrameSplitter } from '../../protocols/kafka/codec/frame.js';
import { responseHeaderFlexible, writeRequestHeader } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';

export function apiOf(apiKey: number): AnyKafkaApi {
  const api = KAFKA_APIS.find((a) => a.apiKey === apiKey);
  if (!api) throw new Error(`no API ${apiKey}`);
  return api;
}

/** A whole request frame (size prefix included). */
export function requestFrame(apiKey: number, version: number, correlationId: number, body: unknown, clientId = 'raw-test'): Buffer {
  const api = apiOf(apiKey);
  const flexible = isFlexible(api, version);
  const w = new Writer();
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId }, flexible);
  encode(api.request, w, body, version, flexible);
  return withSize(w.toBuffer());
}

export function withSize(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

export class RawKafka {
  private nextId = 1;
  private readonly frames: Buffer[] = [];
  private readonly waiters: Array<(frame: Buffer | null) => void> = [];
  private readonly splitter = new FrameSplitter(256 * 1024 * 1024);
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.splitter.push(chunk)) {
        if ('frame' in e) {
          const waiter = this.waiters.shift();
          if (waiter) waiter(e.frame);
          else this.frames.push(e.frame);
        }
      }
    });
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w(null);
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawKafka> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawKafka(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a request without waiting; returns its correlation id. */
  post(apiKey: number, version: number, body: unknown): number {
    const id = this.nextId++;
    this.write(requestFrame(apiKey, version, id, body));
    return id;
  }

  /** The next response frame (correlation id first), or null if the connection closed first. */
  nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  /** Decodes a response frame for `apiKey` at `version`; checks the correlation id. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  decodeResponse(frame: Buffer, apiKey: number, version: number, correlationId: number): any {
    const api = apiOf(apiKey);
    const flexible = isFlexible(api, version);
    const r = new Reader(frame);
    const id = r.int32();
    if (id !== correlationId) throw new Error(`correlation id ${id}, expected ${correlationId}`);
    if (responseHeaderFlexible(apiKey, flexible)) r.uvarint();
    const body = decode(api.response, r, version, flexible);
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ${api.name} v${version} response`);
    return body;
  }

  /** Sends a request and decodes its response. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async request(apiKey: number, version: number, body: unknown, timeoutMs = 5000): Promise<any> {
    const id = this.post(apiKey, version, body);
    const frame = await this.nextFrame(timeoutMs);
    if (!frame) throw new Error('connection closed before the response');
    return this.decodeResponse(frame, apiKey, version, id);
  }

  close(): void {
    this.socket.destroy();
  }
}
