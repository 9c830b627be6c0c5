/**
 * Users in the MetaStore namespace 'users' (key = user name), cached in memory and kept current through the
 * store's change notifications. A record holds a salted scrypt hash and the SCRAM-SHA-256/512 credentials, all
 * derived when the user is created; no password is kept or logged.
 */
import { RobustMQError } from '../../errors.js';
import type { Change, MetaStore } from '../../meta/store.js';
import { decoyHash, hashPassword, MIN_SCRAM_ITERATIONS, scramCredential, verifyPassword } from './passwords.js';
import type { SaslCredentials } from './sasl.js';
import { SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism, type UserRecord, type UserSummary } from './types.js';

/** User names: what MQTT, SCRAM (saslname) and URL paths all carry without escaping trouble. `*` is reserved. */
export const USER_NAME = /^[A-Za-z0-9._@+-]{1,128}$/;
export const MAX_PASSWORD_LENGTH = 1024;

export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME.test(name)) {
    throw new RobustMQError('INVALID_ARGUMENT', 'user name must be 1-128 characters of A-Z a-z 0-9 . _ @ + -');
  }
  return name;
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    throw new RobustMQError('INVALID_ARGUMENT', `password must be 1-${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

export function summaryOf(user: UserRecord): UserSummary {
  return { name: user.name, createdAt: user.createdAt, mechanisms: ['PLAIN', ...Object.keys(user.scram)] };
}

export class UserStore implements SaslCredentials {
  private readonly users = new Map<string, UserRecord>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly scramIterations = MIN_SCRAM_ITERATIONS,
  ) {}

  /** Loads every user and follows changes. */
  async start(): Promise<void> {
    const touched = new Set<string>();
    this.unwatch = this.meta.watch<UserRecord>('users', (change) => {
      touched.add(change.key);
      this.apply(change);
    });
    for (const entry of await this.meta.list<UserRecord>('users')) {
      if (!touched.has(entry.key)) this.users.set(entry.key, entry.value);
    }
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  get size(): number {
    return this.users.size;
  }

  /** Whether the user is known here (the cache: a user just created on another broker may not have arrived yet). */
  has(name: string): boolean {
    return this.users.has(name);
  }

  list(): UserSummary[] {
    return [...this.users.values()].sort((a, b) => a.name.localeCompare(b.name)).map(summaryOf);
  }

  async add(name: unknown, password: unknown): Promise<UserSummary> {
    const user = checkUserName(name);
    const secret = checkPassword(password);
    const scram = {} as Record<ScramMechanism, ScramCredential>;
    for (const mechanism of SCRAM_MECHANISMS) scram[mechanism] = await scramCredential(mechanism, secret, this.scramIterations);
    const record: UserRecord = { name: user, createdAt: Date.now(), password: await hashPassword(secret), scram };
    try {
      await this.meta.put('users', user, record, { expectedVersion: 0 });
    } catch (err) {
      if ((err as RobustMQError).code === 'CONFLICT') throw new RobustMQError('ALREADY_EXISTS', `user "${user}" already exists`);
      throw err;
    }
    this.users.set(user, record);
    return summaryOf(record);
  }

  async delete(name: string): Promise<void> {
    const user = checkUserName(name);
    if (!(await this.meta.delete('users', user))) throw new RobustMQError('NOT_FOUND', `user "${user}" does not exist`);
    this.users.delete(user);
  }

  /** Checks a password; unknown users cost a decoy hash so that timing does not tell them apart. */
  async verify(name: string, password: string): Promise<boolean> {
    const user = await this.find(name);
    if (!user) {
      await verifyPassword(password, await decoyHash());
      return false;
    }
    return verifyPassword(password, user.password);
  }

  async scramCredential(name: string, mechanism: ScramMechanism): Promise<ScramCredential | undefined> {
    return (await this.find(name))?.scram[mechanism];
  }

  /** From the cache; a miss asks the store, as a user created on another broker may not have arrived yet. */
  private async find(name: string): Promise<UserRecord | undefined> {
    if (!USER_NAME.test(name)) return undefined;
    const cached = this.users.get(name);
    if (cached) return cached;
    return (await this.meta.get<UserRecord>('users', name))?.value;
  }

  private apply(change: Change<UserRecord>): void {
    if (change.type === 'delete' || !change.entry) this.users.delete(change.key);
    else this.users.set(change.key, change.entry.value);
  }
}
