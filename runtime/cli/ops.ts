/**
 * What the admin commands (`robustmq user|acl|topic`) ask for, behind one interface with two implementations: the
 * admin API over HTTP (the default), or the cluster's MetaStore opened directly (`--meta dynamodb`,
 * ./direct-ops.ts). Both take the same request bodies and answer the same shapes, so the commands print the same
 * tables and JSON either way.
 */
import type { Command } from 'commander';
import type { AclRule } from '../core/auth/acl-rules.js';
import type { UserSummary } from '../core/auth/types.js';
import type { PartitionInfo } from '../core/topics.js';
import type { TopicRecord } from '../meta/records.js';
import { RobustMQError } from '../errors.js';
import { adminRequest, withAdmin } from './admin-client.js';
import { isDirect, openDirect, withDirect, type DirectOpts } from './direct.js';
import { directOps } from './direct-ops.js';

/** A topic as shown: offsets come from the partition logs, which only a node has (absent in direct mode). */
export type TopicView = TopicRecord & { partitionInfo?: PartitionInfo[] };

export interface AdminOps {
  listUsers(): Promise<{ users: UserSummary[] }>;
  addUser(body: { name: string; password: string }): Promise<UserSummary>;
  deleteUser(name: string): Promise<void>;
  /** `enforced`: whether the answering node runs with --auth on; absent in direct mode, where no node answers. */
  listAcls(principal?: string): Promise<{ acls: AclRule[]; enforced?: boolean }>;
  addAcl(body: Record<string, string>): Promise<AclRule>;
  deleteAcl(id: string): Promise<void>;
  createTopic(body: Record<string, unknown>): Promise<TopicView>;
  listTopics(): Promise<{ topics: TopicView[] }>;
  describeTopic(name: string): Promise<TopicView>;
  updateTopic(name: string, body: Record<string, unknown>): Promise<TopicView>;
  deleteTopic(name: string): Promise<void>;
  close(): Promise<void>;
}

const seg = encodeURIComponent;

export function httpOps(base: string): AdminOps {
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> => adminRequest<T>(base, method, path, body);
  return {
    listUsers: () => call('GET', 'api/v1/users'),
    addUser: (body) => call('POST', 'api/v1/users', body),
    deleteUser: (name) => call('DELETE', `api/v1/users/${seg(name)}`),
    listAcls: (principal) => call('GET', `api/v1/acls${principal === undefined ? '' : `?principal=${seg(principal)}`}`),
    addAcl: (body) => call('POST', 'api/v1/acls', body),
    deleteAcl: (id) => call('DELETE', `api/v1/acls/${seg(id)}`),
    createTopic: (body) => call('POST', 'api/v1/topics', body),
    listTopics: () => call('GET', 'api/v1/topics'),
    describeTopic: (name) => call('GET', `api/v1/topics/${seg(name)}`),
    updateTopic: (name, body) => call('PATCH', `api/v1/topics/${seg(name)}`, body),
    deleteTopic: (name) => call('DELETE', `api/v1/topics/${seg(name)}`),
    close: async () => undefined,
  };
}

/** The options of a command that works through the admin API or, with --meta, on the store directly. */
export function withTarget(cmd: Command): Command {
  return withDirect(withAdmin(cmd));
}

export interface OpsOptions {
  /** Direct mode: SCRAM iterations of users it creates. */
  scramIterations?: number;
}

/** Runs `fn` against the admin API or, with --meta, the store (closed afterwards). */
export async function withOps<T>(cmd: Command, fn: (ops: AdminOps) => Promise<T>, options: OpsOptions = {}): Promise<T> {
  const opts = cmd.opts<DirectOpts & { admin: string }>();
  if (!isDirect(cmd)) {
    if (options.scramIterations !== undefined) {
      throw new RobustMQError('INVALID_ARGUMENT', "--scram-iterations applies with --meta only: through the admin API the node's --scram-iterations decides");
    }
    return fn(httpOps(opts.admin));
  }
  const ops = directOps(await openDirect(opts), {
    ...options,
    note: (text) => process.stderr.write(`robustmq: note: ${text}\n`),
  });
  try {
    return await fn(ops);
  } finally {
    await ops.close();
  }
}
