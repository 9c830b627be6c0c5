/**
 * A bare Kafka client for protocol tests: encodes a request with the broker's own message descriptions at any
 * version (including flexible ones real clients do not send yet) and decodes the response.
 */
import net from 'node:net';
import { KAFKA_APIS } from '../../protocols/kafka/apis/index.js';
import { isFlexible, type AnyKafkaApi } from '../../protocols/kafka/apis/types.js';
import { decode, encode } from '../../protocols/kafka/codec/codec.js';
import { FrameSplitter } from '../../protocols/kafka/codec/frame.js';
import { responseHeaderFlexible, writeRequestHeader } from '../../protocols/kafka/codec/header.js';
import { Reader } from '../../protocols/kafka/codec/reader.js';
import { Writer } from '../../protocols/kafka/codec/writer.js';

export class WireClient {
  private correlationId = 0;
  private readonly waiting = new Map<number, (frame: Buffer) => void>();
  private readonly splitter = new FrameSplitter(64 * 1024 * 1024);

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.splitter.push(chunk)) {
        if ('error' in event) throw new Error(event.error);
        const id = event.frame.readInt32BE(0);
        this.waiting.get(id)?.(event.frame);
        this.waiting.delete(id);
      }
    });
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async send(apiKey: number, version: number, body: Record<string, unknown>, clientId = 'wire-test'): Promise<any> {
    const api: AnyKafkaApi = KAFKA_APIS.find((a) => a.apiKey === apiKey)!;
    const flexible = isFlexible(api, version);
    const id = ++this.correlationId;
    const w = new Writer();
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId: id, clientId }, flexible);
    encode(api.request, w, body, version, flexible);
    const payload = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    const frame = await new Promise<Buffer>((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(Buffer.concat([size, payload]));
    });
    const r = new Reader(frame, 4);
    if (responseHeaderFlexible(apiKey, flexible)) r.uvarint();
    const response = decode(api.response, r, version, flexible);
    if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after the ${api.name} v${version} response`);
    return response;
  }

  close(): void {
    this.socket.destroy();
  }
}
