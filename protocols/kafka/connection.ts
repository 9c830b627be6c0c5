/**
 * One Kafka client connection. Frames are handled strictly one at a time in arrival order, so pipelined requests
 * are answered in order (Kafka's per-connection ordering guarantee; a long-polling Fetch holds back the requests
 * behind it, as on a Kafka broker). Works on any Duplex stream: TCP, TLS or an in-memory pair in tests.
 *
 * Failure policy: an unknown API key or version gets UNSUPPORTED_VERSION; a frame that cannot be parsed (bad size,
 * truncated body, absurd counts) closes this connection with a log line; a handler error becomes the API's error
 * response. Nothing a client sends can throw into the event loop.
 */
import type { Duplex } from 'node:stream';
import type { BrokerContext } from '../../runtime/context.js';
import type { ClientInfo } from '../../runtime/core/clients.js';
import type { Logger } from '../../runtime/logger.js';
import { apiVersionsBody } from './apis/api-versions.js';
import { isFlexible, type AnyKafkaApi, type KafkaConnectionInfo, type KafkaRequestContext } from './apis/types.js';
import { decode, encode } from './codec/codec.js';
import { FrameSplitter } from './codec/frame.js';
import {
  API_VERSIONS_KEY,
  readRequestHeader,
  responseHeaderFlexible,
  skipHeaderTags,
  writeResponseHeader,
  type RequestHeader,
} from './codec/header.js';
import { Reader } from './codec/reader.js';
import { Writer } from './codec/writer.js';
import { ErrorCode, kafkaErrorOf } from './errors.js';
import { Response as ApiVersionsResponse } from './messages/api-versions.js';
import type { KafkaNode } from './node.js';

/** Frames queued beyond this pause reading until the backlog halves (backpressure on pipelining clients). */
const MAX_QUEUED = 64;
const METRIC = { protocol: 'kafka' } as const;

export interface ConnectionDeps {
  readonly broker: BrokerContext;
  readonly kafka: KafkaNode;
  readonly info: KafkaConnectionInfo;
  readonly client: ClientInfo;
  readonly log: Logger;
  readonly maxFrameBytes: number;
  /** The server's signal: aborting it ends long-polls of every connection. */
  readonly serverSignal: AbortSignal;
}

export class KafkaConnection {
  private readonly splitter: FrameSplitter;
  private readonly queue: Buffer[] = [];
  private readonly abort = new AbortController();
  private busy = false;
  private closed = false;
  private readonly closedCallbacks: Array<() => void> = [];

  constructor(
    private readonly stream: Duplex,
    private readonly deps: ConnectionDeps,
  ) {
    this.splitter = new FrameSplitter(deps.maxFrameBytes);
    const onServerStop = (): void => this.abort.abort();
    deps.serverSignal.addEventListener('abort', onServerStop, { once: true });
    this.closedCallbacks.push(() => deps.serverSignal.removeEventListener('abort', onServerStop));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => {
      deps.log.debug({ err }, 'kafka connection error');
      this.close();
    });
    stream.on('close', () => this.close());
  }

  /** Runs once the connection is closed. */
  onClosed(callback: () => void): void {
    if (this.closed) callback();
    else this.closedCallbacks.push(callback);
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.deps.log.warn({ reason }, 'closing kafka connection');
    this.abort.abort();
    this.queue.length = 0;
    this.stream.destroy();
    for (const cb of this.closedCallbacks.splice(0)) cb();
  }

  private onData(chunk: Buffer): void {
    this.deps.broker.metrics.bytesIn.inc(METRIC, chunk.length);
    for (const event of this.splitter.push(chunk)) {
      if ('error' in event) return this.close(event.error);
      this.queue.push(event.frame);
    }
    if (this.queue.length >= MAX_QUEUED) this.stream.pause();
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        await this.handle(this.queue.shift()!);
        if (this.queue.length <= MAX_QUEUED / 2 && this.stream.isPaused()) this.stream.resume();
      }
    } catch (err) {
      this.deps.log.error({ err }, 'unexpected error in kafka request handling');
      this.close('internal error');
    } finally {
      this.busy = false;
    }
  }

  private async handle(frame: Buffer): Promise<void> {
    const reader = new Reader(frame);
    let header: RequestHeader;
    try {
      header = readRequestHeader(reader);
    } catch (err) {
      return this.close(`unreadable request header: ${(err as Error).message}`);
    }
    if (header.clientId && this.deps.client.clientId === undefined) this.deps.client.clientId = header.clientId;
    const api = this.deps.kafka.api(header.apiKey);
    if (!api || header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) {
      return this.unsupported(header, api);
    }
    const flexible = isFlexible(api, header.apiVersion);
    let request: unknown;
    try {
      if (flexible) skipHeaderTags(reader);
      request = decode(api.request, reader, header.apiVersion, flexible);
    } catch (err) {
      return this.close(`malformed ${api.name} v${header.apiVersion} request: ${(err as Error).message}`);
    }
    const ctx = this.context(header);
    let response: unknown;
    try {
      response = await api.handler(request, ctx);
    } catch (err) {
      if (!api.errorResponse) return this.close(`${api.name} failed: ${(err as Error).message}`);
      this.deps.log.warn({ err, api: api.name }, 'kafka request failed');
      response = api.errorResponse(request, kafkaErrorOf(err), ctx);
    }
    if (response === null || this.closed) return;
    const w = new Writer();
    writeResponseHeader(w, header.correlationId, responseHeaderFlexible(api.apiKey, flexible));
    encode(api.response, w, response, header.apiVersion, flexible);
    this.send(w);
  }

  private context(header: RequestHeader): KafkaRequestContext {
    return {
      broker: this.deps.broker,
      kafka: this.deps.kafka,
      connection: this.deps.info,
      apiKey: header.apiKey,
      apiVersion: header.apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      log: this.deps.log,
      signal: this.abort.signal,
    };
  }

  /**
   * ApiVersions answers in v0 with our ranges (KIP-511); any other API gets a bare UNSUPPORTED_VERSION after the
   * correlation id, since its response layout for that version is unknown to us.
   */
  private unsupported(header: RequestHeader, api: AnyKafkaApi | undefined): void {
    this.deps.log.warn(
      { apiKey: header.apiKey, apiVersion: header.apiVersion, api: api?.name, clientId: header.clientId },
      'unsupported kafka API or version',
    );
    const w = new Writer(1024);
    writeResponseHeader(w, header.correlationId, false);
    if (header.apiKey === API_VERSIONS_KEY) {
      encode(ApiVersionsResponse, w, apiVersionsBody(this.deps.kafka.apis, ErrorCode.UNSUPPORTED_VERSION), 0, false);
    } else {
      w.int16(ErrorCode.UNSUPPORTED_VERSION);
    }
    this.send(w);
  }

  private send(w: Writer): void {
    if (this.closed || this.stream.destroyed) return;
    const chunks = w.finish();
    const size = chunks.reduce((n, c) => n + c.length, 0);
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(size, 0);
    this.stream.cork();
    this.stream.write(prefix);
    for (const c of chunks) this.stream.write(c);
    this.stream.uncork();
    this.deps.broker.metrics.bytesOut.inc(METRIC, size + 4);
  }
}
