/**
 * One AuthService per node, shared by every protocol front-end and the admin API: `authOf(ctx)` returns it. It holds
 * the user store and the ACL engine, knows whether auth is on, and answers the protocol-neutral questions:
 * `authenticate(username, password)`, `authorize(principal, action, resource)`, `saslExchange(mechanism)`.
 *
 * With auth off, anyone connects (credentials are not checked) and ACLs are not enforced; a warning says so at start.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { BrokerContext } from '../../context.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import { AclEngine } from './acl.js';
import { saslExchange, type SaslExchange } from './sasl.js';
import type { AclAction, AuthMode, Principal, Resource } from './types.js';
import { UserStore } from './users.js';

export interface AuthSettings {
  readonly auth: AuthMode;
  readonly aclNoMatch: 'allow' | 'deny';
  readonly adminToken?: string;
  readonly scramIterations: number;
}

/** Why authentication failed: no credentials at all (MQTT: not authorized) or wrong ones (bad user name or password). */
export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: 'missing-credentials' | 'bad-credentials' };

export class AuthService {
  readonly users: UserStore;
  readonly acls: AclEngine;
  /** The admin API bearer token: configured, or generated at start when auth is on; undefined with auth off. */
  readonly adminToken: string | undefined;
  private readonly generatedToken: boolean;
  private started: Promise<void> | undefined;

  constructor(
    meta: MetaStore,
    private readonly settings: AuthSettings,
    private readonly log: Logger,
  ) {
    this.users = new UserStore(meta, settings.scramIterations);
    this.acls = new AclEngine(meta, settings.aclNoMatch);
    this.generatedToken = settings.auth === 'on' && !settings.adminToken;
    this.adminToken = settings.adminToken ?? (settings.auth === 'on' ? randomBytes(24).toString('base64url') : undefined);
  }

  get enabled(): boolean {
    return this.settings.auth === 'on';
  }

  /** Loads users and ACLs and follows their changes; idempotent, so every front-end may call it. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await Promise.all([this.users.start(), this.acls.start()]);
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
    this.started = undefined;
  }

  /** Password authentication (MQTT CONNECT and the like). With auth off every client is let in as it says it is. */
  async authenticate(username: string | undefined | null, password: string | Buffer | undefined | null): Promise<AuthOutcome> {
    if (!this.enabled) return { ok: true, principal: { user: username ?? null } };
    if (username === undefined || username === null || username === '' || password === undefined || password === null) {
      return { ok: false, reason: 'missing-credentials' };
    }
    const secret = typeof password === 'string' ? password : password.toString('utf8');
    if (!(await this.users.verify(username, secret))) return { ok: false, reason: 'bad-credentials' };
    return { ok: true, principal: { user: username, mechanism: 'password' } };
  }

  /** Whether `principal` may do `action` on `resource`; always true with auth off (ACLs are not enforced then). */
  authorize(principal: Principal, action: AclAction, resource: Resource): boolean {
    return !this.enabled || this.acls.authorize(principal, action, resource);
  }

  /** A SASL exchange checking credentials against the user store, or undefined for a mechanism not served. */
  saslExchange(mechanism: string): SaslExchange | undefined {
    return saslExchange(mechanism, this.users);
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
    const settings: AuthSettings = { auth: c.auth, aclNoMatch: c.aclNoMatch, adminToken: c.adminToken, scramIterations: c.scramIterations };
    service = new AuthService(ctx.meta, settings, ctx.log.child({ component: 'auth' }));
    services.set(ctx, service);
  }
  return service;
}
