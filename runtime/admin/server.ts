/**
 * The admin HTTP API: /healthz, Prometheus /metrics, and JSON REST under /api/v1 for topics, clients, the
 * cluster, users and ACLs. Errors are `{ error: { code, message, retriable } }` with 400/401/404/409/5xx statuses.
 * With an admin token (--auth on, or --admin-token), /api/v1 needs `Authorization: Bearer <token>`; /healthz and
 * /metrics stay open.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClusterBroker } from '../cluster/broker.js';
import { clusterStatusOf } from '../cluster/status.js';
import type { BrokerContext } from '../context.js';
import { authOf } from '../core/auth/service.js';
import { RobustMQError } from '../errors.js';
import { createAcl, deleteAcl, listAcls } from './acls-api.js';
import { readJson, sendError, sendJson } from './http.js';
import { createTopic, listTopics, updateTopic } from './topics-api.js';
import { createUser, deleteUser, listUsers } from './users-api.js';

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const startedAt = Date.now();

export async function startAdminServer(ctx: BrokerContext, healthy: () => boolean): Promise<AdminServer> {
  const auth = authOf(ctx);
  await auth.start();
  const server = createServer((req, res) => {
    route(ctx, healthy, req, res).catch((err) => {
      const status = sendError(res, err);
      if (status >= 500) ctx.log.error({ err, method: req.method, url: req.url }, 'admin request failed');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.adminPort, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ctx.log.info({ port }, 'admin API listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => auth.close()),
  };
}

async function route(ctx: BrokerContext, healthy: () => boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const key = `${method} /${parts.slice(0, 3).join('/')}`;

  if (key === 'GET /healthz') {
    const ok = healthy();
    return sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'starting' });
  }
  if (key === 'GET /metrics') {
    const text = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
    res.end(text);
    return;
  }
  const auth = authOf(ctx);
  if (!auth.adminAuthorized(req.headers.authorization)) {
    res.setHeader('www-authenticate', 'Bearer realm="robustmq"');
    return sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'missing or wrong admin token (Authorization: Bearer <token>)', retriable: false } });
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1') throw new RobustMQError('NOT_FOUND', `no route for ${method} ${url.pathname}`);
  const resource = parts[2];
  const name = parts[3];
  if (parts.length > 4) throw new RobustMQError('NOT_FOUND', `no route for ${method} ${url.pathname}`);

  if (resource === 'topics' && name === undefined) {
    if (method === 'GET') return sendJson(res, 200, listTopics(ctx.topics));
    if (method === 'POST') return sendJson(res, 201, await createTopic(ctx.topics, await readJson(req)));
  }
  if (resource === 'topics' && name !== undefined) {
    if (method === 'GET') return sendJson(res, 200, ctx.topics.describe(name));
    if (method === 'PATCH') return sendJson(res, 200, await updateTopic(ctx.topics, name, await readJson(req)));
    if (method === 'DELETE') {
      await ctx.topics.delete(name);
      res.writeHead(204).end();
      return;
    }
  }
  if (resource === 'clients' && name === undefined && method === 'GET') {
    const protocol = url.searchParams.get('protocol');
    const clients = ctx.clients.list(protocol === 'mqtt' || protocol === 'kafka' ? protocol : undefined);
    return sendJson(res, 200, { clients });
  }
  if (resource === 'cluster' && name === undefined && method === 'GET') {
    return sendJson(res, 200, clusterStatus(ctx));
  }
  if (resource === 'users' || resource === 'acls') {
    const api = resource === 'users'
      ? { list: () => listUsers(auth.users), create: (body: unknown) => createUser(auth.users, body), remove: (n: string) => deleteUser(auth.users, n) }
      : {
          list: () => listAcls(auth.acls, url.searchParams.get('principal'), auth.enabled),
          create: (body: unknown) => createAcl(auth.acls, body),
          remove: (id: string) => deleteAcl(auth.acls, id),
        };
    if (name === undefined && method === 'GET') return sendJson(res, 200, api.list());
    if (name === undefined && method === 'POST') return sendJson(res, 201, await api.create(await readJson(req)));
    if (name !== undefined && method === 'DELETE') {
      await api.remove(name);
      res.writeHead(204).end();
      return;
    }
  }
  if (['topics', 'clients', 'cluster', 'users', 'acls'].includes(resource ?? '')) {
    const collection = resource === 'topics' || resource === 'users' || resource === 'acls';
    const topicItem = resource === 'topics' ? 'GET, PATCH, DELETE' : 'DELETE';
    res.setHeader('allow', collection ? (name ? topicItem : 'GET, POST') : 'GET');
    sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${url.pathname}`, retriable: false } });
    return;
  }
  throw new RobustMQError('NOT_FOUND', `no route for ${method} ${url.pathname}`);
}

function clusterStatus(ctx: BrokerContext): unknown {
  if (ctx.cluster instanceof ClusterBroker) return clusterStatusOf(ctx, ctx.cluster);
  const topics = ctx.topics.list();
  return {
    mode: 'standalone',
    meta: ctx.meta.kind,
    nodes: [
      {
        id: 0,
        host: ctx.config.host,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        connections: { mqtt: ctx.clients.count('mqtt'), kafka: ctx.clients.count('kafka') },
        partitions: topics.reduce((n, t) => n + t.partitions, 0),
      },
    ],
    topics: topics.length,
    defaultStorage: ctx.config.storage,
  };
}
