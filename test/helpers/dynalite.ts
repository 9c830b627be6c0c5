/**
 * dynalite (an in-process DynamoDB built on LevelDB) for tests, behind a small front server that adds the three
 * operations dynalite 4 lacks and the DynamoDB meta store uses: TransactWriteItems, UpdateTimeToLive and
 * DescribeTimeToLive (dynalite always answers DISABLED).
 *
 * TransactWriteItems is emulated faithfully enough to test against: while one runs no other request does, so no
 * other read or write can interleave with it; each action is then performed on dynalite with its own
 * condition (a ConditionCheck becomes a rewrite of the unchanged item, or a delete of the absent one, under the
 * condition), and if any condition fails every applied action is rolled back and the call answers
 * TransactionCanceledException with one CancellationReason per action, as DynamoDB does. ClientRequestToken makes a
 * retried call idempotent (DynamoDB keeps tokens for 10 minutes; here for the server's life). TTL deletion itself
 * is not emulated: DynamoDB deletes expired items lazily, so stores must filter them anyway.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

// The SDK warns once per process that Node 20 support ends in 2027; that is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type DynaliteFactory = (options: Record<string, unknown>) => http.Server;
const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;

/** Static fake credentials: dynalite checks that requests are signed, not by whom. */
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEST_REGION = 'us-east-1';

export interface Dynalite {
  /** The front server's URL: use this as the DynamoDB endpoint. */
  readonly endpoint: string;
  /** A client for test setup and inspection (one attempt, fake credentials). */
  client(config?: Partial<DynamoDBClientConfig>): DynamoDBClient;
  /** Requests received so far per operation (e.g. `Query`, `PutItem`). */
  readonly requests: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

type Json = Record<string, any>;
interface Answer {
  status: number;
  body: Json;
}

const TYPE_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Operations the front answers itself; everything else goes to dynalite's own request handler. */
const EMULATED = new Set(['TransactWriteItems', 'UpdateTimeToLive', 'DescribeTimeToLive']);

export async function startDynalite(): Promise<Dynalite> {
  const inner = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite's handler serves the front's requests in place (no second hop); its own port serves the emulator.
  const passthrough = inner.listeners('request')[0] as RequestListener;
  await new Promise<void>((resolve) => inner.listen(0, '127.0.0.1', resolve));
  const innerUrl = `http://127.0.0.1:${(inner.address() as AddressInfo).port}`;
  const emulator = new Emulator(innerUrl, passthrough);
  const front = http.createServer((req, res) => void emulator.handle(req, res));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  return {
    endpoint,
    requests: emulator.requests,
    client: (config = {}) => {
      const client = new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1, ...config });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const client of clients) client.destroy();
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await emulator.settled(2000);
      await new Promise<void>((resolve) => inner.close(() => resolve()));
    },
  };
}

/**
 * Emulated operations run exclusively (nothing else runs while a transaction's steps do); all other requests run
 * concurrently with each other, as dynalite serialises writes to one item itself.
 */
class ExclusiveLock {
  private tail: Promise<void> = Promise.resolve();
  private readonly active = new Set<Promise<void>>();

  shared<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    const settled = run.then(() => undefined, () => undefined);
    this.active.add(settled);
    void settled.then(() => this.active.delete(settled));
    return run;
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const before = [...this.active];
    const run = this.tail.then(() => Promise.all(before)).then(fn);
    this.tail = run.then(() => undefined, () => undefined);
    return run;
  }
}

class Emulator {
  private readonly lock = new ExclusiveLock();
  private readonly keySchemas = new Map<string, string[]>();
  private readonly ttl = new Map<string, string>();
  private readonly tokens = new Map<string, { hash: string; answer: Answer }>();
  readonly requests = new Map<string, number>();
  /** Requests dynalite is still working on (possibly for a client that already went away). */
  private working = 0;
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly innerUrl: string,
    private readonly passthrough: RequestListener,
  ) {}

  /**
   * Resolves once dynalite finished every request it started (at most `timeoutMs`): closing it earlier closes its
   * database under a request still reading it, which throws out of dynalite's own callbacks.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.working === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    this.requests.set(op, (this.requests.get(op) ?? 0) + 1);
    if (!EMULATED.has(op)) {
      if (op === 'DeleteTable' || op === 'CreateTable') this.keySchemas.clear();
      this.working++;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        if (--this.working === 0) for (const wake of this.idle.splice(0)) wake();
      };
      // dynalite ends the response when it is done with the request, even after the client went away.
      const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
      res.end = ((...args: unknown[]) => {
        finish();
        return end(...args);
      }) as typeof res.end;
      await this.lock.shared(
        () =>
          new Promise<void>((resolve) => {
            res.once('close', resolve);
            this.passthrough(req, res);
          }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString()) as Json;
    try {
      const answer = await this.lock.exclusive(() => this.dispatch(op, input));
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answer.body));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `${TYPE_PREFIX}InternalServerError`, message: String(err) }));
    }
  }

  private dispatch(op: string, input: Json): Promise<Answer> {
    if (op === 'TransactWriteItems') return this.transactWrite(input);
    if (op === 'UpdateTimeToLive') return this.updateTtl(input);
    return this.describeTtl(input);
  }

  /** Calls dynalite directly (already inside the serialised section). */
  private async call(op: string, payload: Json): Promise<Answer> {
    const res = await fetch(this.innerUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${op}`,
        'x-amz-date': '20240101T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify(payload),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  private async keyOf(table: string, item: Json): Promise<{ key: Json } | { answer: Answer }> {
    let names = this.keySchemas.get(table);
    if (names === undefined) {
      const described = await this.call('DescribeTable', { TableName: table });
      if (described.status !== 200) return { answer: described };
      names = (described.body.Table.KeySchema as Json[]).map((k) => k.AttributeName as string);
      this.keySchemas.set(table, names);
    }
    return { key: Object.fromEntries(names.map((n) => [n, item[n]])) };
  }

  private async transactWrite(input: Json): Promise<Answer> {
    const items = input.TransactItems as Json[] | undefined;
    if (!Array.isArray(items) || items.length === 0 || items.length > 100) {
      return validation('TransactItems must hold between 1 and 100 actions');
    }
    const token = input.ClientRequestToken as string | undefined;
    const hash = createHash('sha256').update(JSON.stringify(items)).digest('hex');
    const seen = token === undefined ? undefined : this.tokens.get(token);
    if (seen !== undefined) {
      if (seen.hash !== hash) return error('IdempotentParameterMismatchException', 'ClientRequestToken reused with different parameters');
      return seen.answer;
    }
    const actions: Action[] = [];
    const ids = new Set<string>();
    for (const item of items) {
      const kinds = ['ConditionCheck', 'Put', 'Delete', 'Update'].filter((k) => item[k] !== undefined);
      if (kinds.length !== 1) return validation('each TransactItem must hold exactly one action');
      const kind = kinds[0] as Action['kind'];
      const spec = item[kind] as Json;
      const found = await this.keyOf(spec.TableName as string, kind === 'Put' ? spec.Item : spec.Key);
      if ('answer' in found) return found.answer;
      const key = found.key;
      const id = `${spec.TableName}\u0000${JSON.stringify(key)}`;
      if (ids.has(id)) return validation('Transaction request cannot include multiple operations on one item');
      ids.add(id);
      actions.push({ kind, spec, key });
    }
    const answer = await this.applyAll(actions);
    if (token !== undefined && answer.status === 200) this.tokens.set(token, { hash, answer });
    return answer;
  }

  private async applyAll(actions: Action[]): Promise<Answer> {
    // Nothing else runs meanwhile and the actions touch distinct items, so they can go to dynalite in parallel.
    const snapshots = await Promise.all(
      actions.map((a) => this.call('GetItem', { TableName: a.spec.TableName, Key: a.key, ConsistentRead: true })),
    );
    const failedRead = snapshots.find((r) => r.status !== 200);
    if (failedRead !== undefined) return failedRead;
    const before = snapshots.map((r) => r.body.Item as Json | undefined);
    const results = await Promise.all(actions.map((a, i) => this.call(...actionCall(a, before[i]))));
    const applied = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    if (applied.length === actions.length) return { status: 200, body: {} };
    await this.rollback(actions, before, applied);
    const other = results.find((r) => r.status !== 200 && !String(r.body.__type).endsWith('ConditionalCheckFailedException'));
    if (other !== undefined) return other;
    const reasons = results.map((r) =>
      r.status === 200 ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    );
    const codes = reasons.map((r) => r.Code).join(', ');
    return {
      status: 400,
      body: {
        __type: `${TYPE_PREFIX}TransactionCanceledException`,
        Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
        CancellationReasons: reasons,
      },
    };
  }

  private async rollback(actions: Action[], before: Array<Json | undefined>, applied: number[]): Promise<void> {
    const undo = applied.map((i) => {
      const { spec, key } = actions[i];
      const old = before[i];
      return old === undefined
        ? this.call('DeleteItem', { TableName: spec.TableName, Key: key })
        : this.call('PutItem', { TableName: spec.TableName, Item: old });
    });
    for (const res of await Promise.all(undo)) {
      if (res.status !== 200) throw new Error(`dynalite emulator: rollback failed: ${JSON.stringify(res.body)}`);
    }
  }

  private async updateTtl(input: Json): Promise<Answer> {
    const table = input.TableName as string;
    const exists = await this.call('DescribeTable', { TableName: table });
    if (exists.status !== 200) return exists;
    const spec = input.TimeToLiveSpecification as { Enabled: boolean; AttributeName: string };
    const current = this.ttl.get(table);
    if (spec.Enabled && current !== undefined) return validation('TimeToLive is already enabled');
    if (!spec.Enabled && current === undefined) return validation('TimeToLive is already disabled');
    if (spec.Enabled) this.ttl.set(table, spec.AttributeName);
    else this.ttl.delete(table);
    return { status: 200, body: { TimeToLiveSpecification: spec } };
  }

  private async describeTtl(input: Json): Promise<Answer> {
    const table = input.TableName as string;
    const exists = await this.call('DescribeTable', { TableName: table });
    if (exists.status !== 200) return exists;
    const name = this.ttl.get(table);
    const description = name === undefined ? { TimeToLiveStatus: 'DISABLED' } : { TimeToLiveStatus: 'ENABLED', AttributeName: name };
    return { status: 200, body: { TimeToLiveDescription: description } };
  }
}

interface Action {
  kind: 'ConditionCheck' | 'Put' | 'Delete' | 'Update';
  spec: Json;
  key: Json;
}

const EXPRESSION_FIELDS = ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];

/** The single-item call that performs one transaction action under its own condition. */
function actionCall(a: Action, before: Json | undefined): [string, Json] {
  const pick = (fields: string[]) => Object.fromEntries(fields.filter((f) => a.spec[f] !== undefined).map((f) => [f, a.spec[f]]));
  const base = { TableName: a.spec.TableName, ...pick(EXPRESSION_FIELDS) };
  switch (a.kind) {
    case 'Put':
      return ['PutItem', { ...base, Item: a.spec.Item }];
    case 'Delete':
      return ['DeleteItem', { ...base, Key: a.key }];
    case 'Update':
      return ['UpdateItem', { ...base, Key: a.key, UpdateExpression: a.spec.UpdateExpression }];
    case 'ConditionCheck':
      // Writes nothing: rewrites the item as it was, or deletes the absent item, only to evaluate the condition.
      return before === undefined ? ['DeleteItem', { ...base, Key: a.key }] : ['PutItem', { ...base, Item: before }];
  }
}

function error(type: string, message: string): Answer {
  return { status: 400, body: { __type: `${TYPE_PREFIX}${type}`, message } };
}

function validation(message: string): Answer {
  return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message } };
}
