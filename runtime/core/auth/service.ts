/**
 * One AuthService per node, shared by every protocol front-end and the admin API: `authOf(ctx)` returns it. It holds
 * the user store, the ACL engine and the login guard, knows whether auth is on, and answers the protocol-neutral
 * questions: `authenticate(username, password, address)`, `authorize(principal, action, resource)`,
 * `saslExchange(mechanism, address)`. Logins from an address with too many recent failures are refused before any
 * credential work (login-guard.ts); protocols map that outcome to their own answer.
 *
 * With auth off, anyone connects (credentials are not checked) and ACLs are not enforced; a warning says so at start.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { BrokerContext } from '../../context.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import type { Metrics, ProtocolName } from '../../metrics.js';
import { AclEngine } from './acl.js';
import { GuardedExchange } from './guarded-sasl.js';
import { checkInitialUser, ensureInitialUser } from './initial-user.js';
import { LoginGuard } from './login-guard.js';
import { saslExchange, type SaslExchange } from './sasl.js';
import type { AclAction, AuthMode, Principal, Resource } from './types.js';
import { UserStore } from './users.js';

export interface AuthSettings {
  readonly auth: AuthMode;
  readonly aclNoMatch: 'allow' | 'deny';
  readonly adminToken?: string;
  readonly scramIterations: number;
  /** Failed logins per client address and window before it is refused without a check; 0 = no limit. @default 10 */
  readonly authMaxFailures?: number;
  /** @default 60_000 */
  readonly authFailureWindowMs?: number;
  /** Created at start (auth on) when no user of that name exists; needs `initialUserPassword`. */
  readonly initialUser?: string;
  readonly initialUserPassword?: string;
}

/** Optional parts of an AuthService: the node's metrics, and the guard's clock for tests. */
export interface AuthServiceOptions {
  readonly metrics?: Pick<Metrics, 'authFailures' | 'authRefused'>;
  readonly now?: () => number;
}

/**
 * Why authentication failed: no credentials at all (MQTT: not authorized), wrong ones (bad user name or password),
 * or none checked because the address failed too often lately (MQTT 5: banned).
 */
export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing-credentials' | 'bad-credentials' | 'too-many-failures' };

export class AuthService {
  readonly users: UserStore;
  readonly acls: AclEngine;
  readonly guard: LoginGuard;
  /** The admin API bearer token: configured, or generated at start when auth is on; undefined with auth off. */
  readonly adminToken: string | undefined;
  private readonly generatedToken: boolean;
  private started: Promise<void> | undefined;

  constructor(
    meta: MetaStore,
    private readonly settings: AuthSettings,
    private readonly log: Logger,
    private readonly options: AuthServiceOptions = {},
  ) {
    this.users = new UserStore(meta, settings.scramIterations);
    this.acls = new AclEngine(meta, settings.aclNoMatch);
    this.guard = new LoginGuard({
      maxFailures: settings.authMaxFailures ?? 10,
      windowMs: settings.authFailureWindowMs ?? 60_000,
      now: options.now,
      log,
    });
    this.generatedToken = settings.auth === 'on' && !settings.adminToken;
    this.adminToken = settings.adminToken ?? (settings.auth === 'on' ? randomBytes(24).toString('base64url') : undefined);
  }

  get enabled(): boolean {
    return this.settings.auth === 'on';
  }

  /**
   * Loads users and ACLs and follows their changes, and with auth on creates the initial user if it is missing;
   * idempotent, so every front-end may call it.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      const initial = { name: this.settings.initialUser, password: this.settings.initialUserPassword };
      checkInitialUser(initial);
      await Promise.all([this.users.start(), this.acls.start()]);
      if (this.enabled) await ensureInitialUser(this.users, initial, this.log);
      if (!this.enabled) {
        this.log.warn('authentication is off (--auth off): every client may connect and ACLs are not enforced');
      } else if (this.generatedToken) {
        // Printed once, as the only way to learn a generated token; set --admin-token to choose it instead.
        this.log.warn({ adminToken: this.adminToken }, 'generated admin API token (send it as "Authorization: Bearer <token>")');
      }
      this.log.info({ auth: this.settings.auth, users: this.users.size, acls: this.acls.list().length }, 'auth ready');
    })();
    return this.started;
  }

  close(): void {
    this.users.close();
    this.acls.close();
    this.guard.close();
    this.started = undefined;
  }

  /**
   * Password authentication (MQTT CONNECT and the like). With auth off every client is let in as it says it is.
   * `address` is the client's "ip:port": an address with too many recent failures is refused without a check, and
   * wrong or missing credentials count against it. Without an address the guard is not consulted.
   */
  async authenticate(
    username: string | undefined | null,
    password: string | Buffer | undefined | null,
    address?: string,
    protocol: ProtocolName = 'mqtt',
  ): Promise<AuthOutcome> {
    if (!this.enabled) return { ok: true, principal: { user: username ?? null } };
    const attempt = await this.guard.enter(address);
    if (attempt === null) {
      this.options.metrics?.authRefused.inc({ protocol });
      return { ok: false, reason: 'too-many-failures' };
    }
    if (username === undefined || username === null || username === '' || password === undefined || password === null) {
      attempt.finish('failure');
      this.options.metrics?.authFailures.inc({ protocol });
      return { ok: false, reason: 'missing-credentials' };
    }
    const secret = typeof password === 'string' ? password : password.toString('utf8');
    let verified: boolean;
    try {
      verified = await this.users.verify(username, secret);
    } catch (err) {
      attempt.finish('none');
      throw err;
    }
    attempt.finish(verified ? 'success' : 'failure');
    if (!verified) {
      this.options.metrics?.authFailures.inc({ protocol });
      return { ok: false, reason: 'bad-credentials' };
    }
    return { ok: true, principal: { user: username, mechanism: 'password' } };
  }

  /** Whether `principal` may do `action` on `resource`; always true with auth off (ACLs are not enforced then). */
  authorize(principal: Principal, action: AclAction, resource: Resource): boolean {
    return !this.enabled || this.acls.authorize(principal, action, resource);
  }

  /**
   * A SASL exchange checking credentials against the user store, or undefined for a mechanism not served. From an
   * `address` ("ip:port") with too many recent failures, its first step fails at once (before any credential lookup).
   */
  saslExchange(mechanism: string, address?: string, protocol: ProtocolName = 'kafka'): SaslExchange | undefined {
    const exchange = saslExchange(mechanism, this.users);
    if (!exchange || !this.enabled) return exchange;
    const metrics = this.options.metrics;
    return new GuardedExchange(exchange, this.guard, address, {
      refused: () => metrics?.authRefused.inc({ protocol }),
      failed: () => metrics?.authFailures.inc({ protocol }),
    });
  }

  /** Checks an `Authorization` header value against the admin token (constant time); true when auth is off. */
  adminAuthorized(header: string | undefined): boolean {
    if (this.adminToken === undefined) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]);
    const expected = Buffer.from(this.adminToken);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

const services = new WeakMap<BrokerContext, AuthService>();

/** The node's AuthService, created on first use from the node's config. Call `start()` before serving clients. */
export function authOf(ctx: BrokerContext): AuthService {
  let service = services.get(ctx);
  if (!service) {
    const c = ctx.config;
    const settings: AuthSettings = {
      auth: c.auth,
      aclNoMatch: c.aclNoMatch,
      adminToken: c.adminToken,
      scramIterations: c.scramIterations,
      authMaxFailures: c.authMaxFailures,
      authFailureWindowMs: c.authFailureWindowMs,
      initialUser: c.initialUser,
      initialUserPassword: c.initialUserPassword,
    };
    service = new AuthService(ctx.meta, settings, ctx.log.child({ component: 'auth' }), { metrics: ctx.metrics });
    services.set(ctx, service);
  }
  return service;
}
