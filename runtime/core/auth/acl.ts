/**
 * The ACL engine shared by MQTT and Kafka: rules per principal (a user or `*`) in the MetaStore namespace 'acls'
 * (key = rule id), cached in memory and refreshed on the store's change notifications. `authorize` is synchronous
 * so that per-message checks (MQTT PUBLISH) cost no promise; its decisions are memoized until the rules change.
 *
 * Decision: a matching deny rule wins over any allow rule; with no matching rule the configured default applies
 * (`aclNoMatch`, allow unless set to deny).
 */
import { RobustMQError } from '../../errors.js';
import type { Change, MetaStore } from '../../meta/store.js';
import { makeRule, ruleMatches, type AclEffect, type AclRule } from './acl-rules.js';
import type { AclAction, Principal, Resource } from './types.js';

export type { AclRule } from './acl-rules.js';

const MEMO_LIMIT = 10_000;

export class AclEngine {
  private readonly rules = new Map<string, AclRule>();
  /** Rules by principal (user name or `*`), rebuilt on change. */
  private byPrincipal = new Map<string, AclRule[]>();
  private readonly memo = new Map<string, boolean>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly noMatch: AclEffect = 'allow',
  ) {}

  async start(): Promise<void> {
    const touched = new Set<string>();
    this.unwatch = this.meta.watch<AclRule>('acls', (change) => {
      touched.add(change.key);
      this.apply(change);
    });
    for (const entry of await this.meta.list<AclRule>('acls')) {
      if (!touched.has(entry.key)) this.rules.set(entry.key, entry.value);
    }
    this.reindex();
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Every rule, or those of one principal, ordered by principal then creation. */
  list(principal?: string): AclRule[] {
    const all = [...this.rules.values()].filter((r) => principal === undefined || r.principal === principal);
    return all.sort((a, b) => a.principal.localeCompare(b.principal) || a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async add(input: Record<string, unknown>): Promise<AclRule> {
    const rule = makeRule(input);
    try {
      await this.meta.put('acls', rule.id, rule, { expectedVersion: 0 });
    } catch (err) {
      if ((err as RobustMQError).code === 'CONFLICT') throw new RobustMQError('ALREADY_EXISTS', `the same rule exists (id ${rule.id})`);
      throw err;
    }
    this.rules.set(rule.id, rule);
    this.reindex();
    return rule;
  }

  async delete(id: string): Promise<void> {
    if (!/^[0-9a-f]{16}$/.test(id) || !(await this.meta.delete('acls', id))) {
      throw new RobustMQError('NOT_FOUND', `no ACL rule with id "${id}"`);
    }
    this.rules.delete(id);
    this.reindex();
  }

  /** Whether `principal` may perform `action` on `resource` under the current rules. */
  authorize(principal: Principal, action: AclAction, resource: Resource): boolean {
    const key = `${principal.user ?? ''}\u0000${principal.clientId ?? ''}\u0000${action}\u0000${resource.type}\u0000${resource.name}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const decision = this.decide(principal, action, resource);
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(key, decision);
    return decision;
  }

  private decide(principal: Principal, action: AclAction, resource: Resource): boolean {
    const own = principal.user === null ? [] : (this.byPrincipal.get(principal.user) ?? []);
    const everyone = this.byPrincipal.get('*') ?? [];
    let allowed = false;
    for (const rule of [...own, ...everyone]) {
      if (!ruleMatches(rule, principal, action, resource)) continue;
      if (rule.effect === 'deny') return false;
      allowed = true;
    }
    return allowed || this.noMatch === 'allow';
  }

  private apply(change: Change<AclRule>): void {
    if (change.type === 'delete' || !change.entry) this.rules.delete(change.key);
    else this.rules.set(change.key, change.entry.value);
    this.reindex();
  }

  private reindex(): void {
    const next = new Map<string, AclRule[]>();
    for (const rule of this.rules.values()) {
      const list = next.get(rule.principal);
      if (list) list.push(rule);
      else next.set(rule.principal, [rule]);
    }
    this.byPrincipal = next;
    this.memo.clear();
  }
}
