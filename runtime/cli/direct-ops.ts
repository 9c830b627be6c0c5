/**
 * The admin commands' operations on a MetaStore opened by the CLI itself (`--meta dynamodb`): the admin API's own
 * handlers (runtime/admin/users-api.ts, acls-api.ts) on a UserStore and an AclEngine of this process, and topic
 * records written as the TopicManager writes them (./direct-topics.ts). Bodies go through JSON first, as over HTTP.
 * A refusal reads as the admin API's: `message (CODE)`.
 */
import { createAcl, deleteAcl, listAcls } from '../admin/acls-api.js';
import { createUser, deleteUser, listUsers } from '../admin/users-api.js';
import { AclEngine } from '../core/auth/acl.js';
import { MIN_SCRAM_ITERATIONS } from '../core/auth/passwords.js';
import { UserStore } from '../core/auth/users.js';
import { RobustMQError } from '../errors.js';
import type { MetaStore } from '../meta/store.js';
import { AdminRequestError } from './admin-client.js';
import { createTopicRecord, getTopicRecord, listTopicRecords, updateTopicRecord } from './direct-topics.js';
import type { AdminOps, OpsOptions } from './ops.js';

export interface DirectOpsOptions extends OpsOptions {
  /** A remark for the operator (stderr), never part of the command's output. */
  note?: (text: string) => void;
}

/** What the admin API would have received: JSON drops undefined fields. */
const wire = (body: unknown): unknown => JSON.parse(JSON.stringify(body)) as unknown;

async function refusalsAsAdmin<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RobustMQError) throw new AdminRequestError(`${err.message} (${err.code})`, { cause: err });
    throw err;
  }
}

export function directOps(meta: MetaStore, options: DirectOpsOptions = {}): AdminOps {
  const users = new UserStore(meta, options.scramIterations ?? MIN_SCRAM_ITERATIONS);
  const acls = new AclEngine(meta);
  const started: Array<{ close(): void }> = [];
  const loaded = async <S extends { start(): Promise<void>; close(): void }>(store: S): Promise<S> => {
    await store.start();
    started.push(store);
    return store;
  };
  const op = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => (...args: A): Promise<T> => refusalsAsAdmin(() => fn(...args));
  return {
    listUsers: op(async () => listUsers(await loaded(users))),
    addUser: op((body) => createUser(users, wire(body))),
    deleteUser: op((name) => deleteUser(users, name)),
    listAcls: op(async (principal) => listAcls(await loaded(acls), principal ?? null)),
    addAcl: op((body) => createAcl(acls, wire(body))),
    deleteAcl: op((id) => deleteAcl(acls, id)),
    createTopic: op(async (body) => {
      const record = await createTopicRecord(meta, wire(body));
      // Only for the note: a policy limited to users, acls and topics may refuse this read, which is no failure.
      const brokers = await meta.list('brokers').catch(() => undefined);
      if (brokers?.length === 0) {
        options.note?.(
          'no cluster broker is registered in this table: brokers take the topic in when they join; ' +
            'a standalone node (robustmq start) reads topics only when it starts',
        );
      }
      return record;
    }),
    listTopics: op(async () => ({ topics: await listTopicRecords(meta) })),
    describeTopic: op((name) => getTopicRecord(meta, name)),
    updateTopic: op((name, body) => updateTopicRecord(meta, name, wire(body))),
    deleteTopic: async () => {
      throw new RobustMQError(
        'INVALID_ARGUMENT',
        'topic delete does not work with --meta: deleting a topic drops its data from the storage engine, which only a ' +
          'broker can do (a record deleted here would leave the data behind, and a topic created again under the name ' +
          'would show it). Use the admin API, or a Kafka client (DeleteTopics)',
      );
    },
    close: async () => {
      for (const store of started) store.close();
      await meta.close();
    },
  };
}
