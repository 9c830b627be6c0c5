/**
 * An HTTP proxy for S3 traffic that injects faults and latency and counts requests by kind. Point an S3 client's
 * endpoint at it; it forwards to the real server (s3rver) unless the fault rule says otherwise:
 * - `status`: answers with an S3 error (503 SlowDown, 500 InternalError, ...) without forwarding;
 * - `reset`: destroys the connection before forwarding (the request never happened);
 * - `reset-after`: forwards, then destroys the connection instead of answering (it happened, the answer is lost);
 * - `hang`: never answers (the client's timeout must fire);
 * - `delay`: waits, then forwards.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RequestKind = 'put' | 'get' | 'list' | 'delete' | 'head' | 'post' | 'other';

export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly kind: RequestKind;
  /** 1 for the first request the proxy saw. */
  readonly n: number;
}

export type Fault =
  | { type: 'status'; status: number; code: string }
  | { type: 'reset' }
  | { type: 'reset-after' }
  | { type: 'hang' }
  | { type: 'delay'; ms: number };

export const SLOW_DOWN: Fault = { type: 'status', status: 503, code: 'SlowDown' };
export const INTERNAL_ERROR: Fault = { type: 'status', status: 500, code: 'InternalError' };

export interface FaultProxy {
  readonly endpoint: string;
  /** Decides the fate of each request; undefined = forward normally. */
  rule: (req: ProxiedRequest) => Fault | undefined;
  /** Added before forwarding every request. */
  latencyMs: number;
  /** Requests seen, by kind (faulted ones included). */
  readonly counts: Record<RequestKind, number>;
  /** Requests answered with a fault, by fault type. */
  readonly faults: Record<Fault['type'], number>;
  resetCounts(): void;
  close(): Promise<void>;
}

function kindOf(method: string, url: string): RequestKind {
  const [path, query = ''] = url.split('?');
  switch (method) {
    case 'PUT':
      return 'put';
    case 'GET':
      return query.includes('list-type') || path.split('/').filter(Boolean).length <= 1 ? 'list' : 'get';
    case 'DELETE':
      return 'delete';
    case 'HEAD':
      return 'head';
    case 'POST':
      return 'post';
    default:
      return 'other';
  }
}

const zeroCounts = (): Record<RequestKind, number> => ({ put: 0, get: 0, list: 0, delete: 0, head: 0, post: 0, other: 0 });
const zeroFaults = (): Record<Fault['type'], number> => ({ status: 0, reset: 0, 'reset-after': 0, hang: 0, delay: 0 });

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  let n = 0;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, dropAnswer: boolean): void => {
    const upstream = http.request({ host, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (dropAnswer) {
        up.resume();
        up.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const info: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', kind: kindOf(req.method ?? 'GET', req.url ?? '/'), n: ++n };
    proxy.counts[info.kind]++;
    const fault = proxy.rule(info);
    if (fault) proxy.faults[fault.type]++;
    const go = (): void => {
      if (!fault) return forward(req, res, false);
      switch (fault.type) {
        case 'status':
          req.resume();
          req.on('end', () => {
            res.writeHead(fault.status, { 'content-type': 'application/xml' });
            res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`);
          });
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'reset-after':
          return forward(req, res, true);
        case 'hang':
          req.resume();
          return;
        case 'delay':
          setTimeout(() => forward(req, res, false), fault.ms);
          return;
      }
    };
    if (proxy.latencyMs > 0) setTimeout(go, proxy.latencyMs);
    else go();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const proxy: FaultProxy = {
    endpoint: `http://127.0.0.1:${port}`,
    rule: () => undefined,
    latencyMs: 0,
    counts: zeroCounts(),
    faults: zeroFaults(),
    resetCounts() {
      Object.assign(proxy.counts, zeroCounts());
      Object.assign(proxy.faults, zeroFaults());
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  return proxy;
}
