/**
 * One Kafka client connection. Frames are handled strictly one at a time in arrival order, so pipelined requests
 * are answered in order (Kafka's per-connection ordering guarantee; a long-polling Fetch holds back the requests
 * behind it, as on a Kafka broker). Works on any Duplex stream: TCP, TLS or an in-memory pair in tests.
 *
 * Failure policy: an unknown API key or version gets UNSUPPORTED_VERSION; a frame that cannot be parsed (bad size,
 * truncated body, absurd counts) closes this connection with a log line; a handler error becomes the API's error
 * response. Nothing a client sends can throw into the event loop.
 *
 * Security: with auth on, only ApiVersions and the SASL APIs are served until the client authenticated (anything
 * else closes the connection with a log line, as Kafka does); see sasl/session.ts. A connection that completes no
 * request (auth on: does not authenticate) within kafkaHandshakeTimeoutMs is closed. While the node's memory guard
 * reports memory above its high watermark, the socket is not read.
 */
import type { Duplex } from 'node:stream';
import type { BrokerContext } from '../../runtime/context.js';
import { isRefusal } from '../../runtime/core/auth/guarded-sasl.js';
import type { SaslExchange } from '../../runtime/core/auth/sasl.js';
import type { AuthService } from '../../runtime/core/auth/service.js';
import type { ClientInfo } from '../../runtime/core/clients.js';
import type { MemoryGuard } from '../../runtime/core/memory-guard.js';
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
import { readEnvelope } from './cluster/envelope.js';
import type { KafkaNode } from './node.js';
import { KafkaSession } from './sasl/session.js';

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
  readonly auth: AuthService;
  /** The common name of a client certificate the TLS listener verified. */
  readonly certificateUser?: string;
  /** Time allowed to complete the first request (auth on: to authenticate). */
  readonly handshakeTimeoutMs: number;
  readonly memory: MemoryGuard;
}

export class KafkaConnection {
  private readonly splitter: FrameSplitter;
  private readonly queue: Buffer[] = [];
  private readonly abort = new AbortController();
  private busy = false;
  private closed = false;
  private readonly closedCallbacks: Array<() => void> = [];
  readonly session: KafkaSession;
  private handshakeTimer: NodeJS.Timeout | undefined;
  /** Set while reading is paused for the memory guard: cancels the wait. */
  private memoryWait: (() => void) | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly deps: ConnectionDeps,
  ) {
    this.splitter = new FrameSplitter(deps.maxFrameBytes);
    this.session = deps.info.internal
      ? KafkaSession.peer()
      : new KafkaSession(deps.auth.enabled, deps.auth.enabled ? deps.certificateUser : undefined);
    if (this.session.principal.user !== null) deps.client.username = this.session.principal.user;
    this.handshakeTimer = setTimeout(() => {
      const what = this.session.authenticated ? 'complete a request' : 'authenticate';
      this.close(`did not ${what} within ${deps.handshakeTimeoutMs} ms`);
    }, deps.handshakeTimeoutMs);
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

  /** Closes the connection; `afterFlush` lets what was written reach the client first (a final error response). */
  close(reason?: string, afterFlush = false, quietly = false): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.deps.log[quietly ? 'debug' : 'warn']({ reason }, 'closing kafka connection');
    clearTimeout(this.handshakeTimer);
    this.memoryWait?.();
    this.abort.abort();
    this.queue.length = 0;
    if (afterFlush && !this.stream.destroyed) {
      this.stream.end();
      setTimeout(() => this.stream.destroy(), 1000).unref();
    } else {
      this.stream.destroy();
    }
    for (const cb of this.closedCallbacks.splice(0)) cb();
  }

  private onData(chunk: Buffer): void {
    this.deps.broker.metrics.bytesIn.inc(METRIC, chunk.length);
    this.deps.memory.observe(chunk.length);
    for (const event of this.splitter.push(chunk)) {
      if ('error' in event) return this.close(event.error);
      this.queue.push(event.frame);
    }
    if (this.queue.length > 0) this.settleHandshake();
    if (this.queue.length >= MAX_QUEUED) this.stream.pause();
    if (this.deps.memory.paused && !this.memoryWait) {
      this.stream.pause();
      this.memoryWait = this.deps.memory.whenResumed(() => {
        this.memoryWait = undefined;
        this.maybeResume();
      });
    }
    void this.drain();
  }

  private maybeResume(): void {
    if (!this.closed && !this.memoryWait && this.queue.length <= MAX_QUEUED / 2 && this.stream.isPaused()) this.stream.resume();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        await this.handle(this.queue.shift()!);
        this.maybeResume();
      }
    } catch (err) {
      this.deps.log.error({ err }, 'unexpected error in kafka request handling');
      this.close('internal error');
    } finally {
      this.busy = false;
    }
  }

  private async handle(frame: Buffer): Promise<void> {
    const raw = this.session.rawExchange;
    if (raw) return this.rawToken(raw, frame);
    let session = this.session;
    if (this.deps.info.internal) {
      // A peer's forward: served as the client's principal (cluster/envelope.ts).
      try {
        const envelope = readEnvelope(frame);
        frame = envelope.request;
        session = KafkaSession.forwarded(envelope.principal);
      } catch (err) {
        return this.close(`unreadable forwarding envelope: ${(err as Error).message}`);
      }
    }
    const reader = new Reader(frame);
    let header: RequestHeader;
    try {
      header = readRequestHeader(reader);
    } catch (err) {
      return this.close(`unreadable request header: ${(err as Error).message}`);
    }
    if (header.clientId && !this.deps.info.internal && this.deps.client.clientId === undefined) this.deps.client.clientId = header.clientId;
    const api = this.deps.kafka.api(header.apiKey);
    if (!this.session.allows(header.apiKey, API_VERSIONS_KEY)) {
      return this.close(`${api?.name ?? `API key ${header.apiKey}`} v${header.apiVersion} before SASL authentication`);
    }
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
    const ctx = this.context(header, session);
    let response: unknown;
    try {
      response = await api.handler(request, ctx);
    } catch (err) {
      if (!api.errorResponse) return this.close(`${api.name} failed: ${(err as Error).message}`);
      this.deps.log.warn({ err, api: api.name }, 'kafka request failed');
      response = api.errorResponse(request, kafkaErrorOf(err), ctx);
    }
    if (this.closed) return;
    if (response !== null) {
      const w = new Writer();
      writeResponseHeader(w, header.correlationId, responseHeaderFlexible(api.apiKey, flexible));
      encode(api.response, w, response, header.apiVersion, flexible);
      this.send(w);
    }
    this.afterRequest();
  }

  /** A SASL token after SaslHandshake v0: no request header, and the answer is a bare length-prefixed token. */
  private async rawToken(exchange: SaslExchange, token: Buffer): Promise<void> {
    const result = await exchange.step(token);
    if (this.closed) return;
    if (result.kind === 'failure') return this.close(`SASL ${exchange.mechanism} authentication failed: ${result.reason}`, false, isRefusal(result));
    if (result.kind === 'success') {
      this.session.succeed(result.principal);
      this.deps.log.info({ user: result.principal.user, mechanism: exchange.mechanism }, 'kafka client authenticated');
    }
    this.sendChunks([result.kind === 'continue' ? result.challenge : result.response]);
    this.afterRequest();
  }

  private afterRequest(): void {
    if (this.session.closeAfterResponse) return this.close(this.session.closeAfterResponse, true, this.session.closeQuietly);
    this.settleHandshake();
    const user = this.session.principal.user;
    if (user !== null) this.deps.client.username = user;
  }

  /** A complete request arrived from an authenticated client (auth off: any client): the handshake timer is done. */
  private settleHandshake(): void {
    if (this.handshakeTimer && this.session.authenticated) {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = undefined;
    }
  }

  private context(header: RequestHeader, session: KafkaSession): KafkaRequestContext {
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
      auth: this.deps.auth,
      session,
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
    this.afterRequest();
  }

  private send(w: Writer): void {
    this.sendChunks(w.finish());
  }

  private sendChunks(chunks: readonly Buffer[]): void {
    if (this.closed || this.stream.destroyed) return;
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
