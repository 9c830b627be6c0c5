/**
 * ACL rules and how one rule matches a request. Patterns by resource type:
 *   mqtt     an MQTT topic filter; `%u` and `%c` stand for the user name and client id. A publish matches when the
 *            topic name matches the filter. A subscription is allowed by a rule whose filter covers every topic the
 *            requested filter can match, and denied by a rule whose filter shares any topic with it.
 *   topic    a Kafka topic: exact name, `*` (every topic) or `prefix*` (Kafka's PREFIXED pattern type).
 *   group    a Kafka consumer group, same patterns.
 *   cluster  the node itself; pattern `*`.
 */
import { createHash } from 'node:crypto';
import { RobustMQError } from '../../errors.js';
import { USER_NAME } from './users.js';
import { ACL_ACTIONS, ACTIONS_BY_TYPE, RESOURCE_TYPES, type AclAction, type Principal, type Resource, type ResourceType } from './types.js';

export type AclEffect = 'allow' | 'deny';

export interface AclRule {
  /** Derived from the rule's content, so the same rule cannot be added twice. */
  readonly id: string;
  /** A user name, or `*` for every user. */
  readonly principal: string;
  readonly effect: AclEffect;
  readonly action: AclAction;
  readonly resourceType: ResourceType;
  readonly pattern: string;
  readonly createdAt: number;
}

export type AclRuleSpec = Omit<AclRule, 'id' | 'createdAt'>;

const MAX_PATTERN = 1024;

const invalid = (message: string): RobustMQError => new RobustMQError('INVALID_ARGUMENT', message);

/** Validates a rule as given to the admin API; returns it with its id. */
export function makeRule(input: Record<string, unknown>, now = Date.now()): AclRule {
  const { principal, effect, action, resourceType, pattern } = input;
  if (typeof principal !== 'string' || (principal !== '*' && !USER_NAME.test(principal))) {
    throw invalid('principal must be a user name or *');
  }
  if (effect !== 'allow' && effect !== 'deny') throw invalid('effect must be allow or deny');
  if (!RESOURCE_TYPES.includes(resourceType as ResourceType)) throw invalid(`resourceType must be one of ${RESOURCE_TYPES.join(', ')}`);
  const type = resourceType as ResourceType;
  if (!ACL_ACTIONS.includes(action as AclAction) || !ACTIONS_BY_TYPE[type].includes(action as AclAction)) {
    throw invalid(`action on ${type} must be one of ${ACTIONS_BY_TYPE[type].join(', ')}`);
  }
  const p = type === 'cluster' && (pattern === undefined || pattern === '') ? '*' : pattern;
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATTERN) throw invalid(`pattern must be 1-${MAX_PATTERN} characters`);
  if (type === 'mqtt') checkFilter(p);
  else if (type === 'cluster' && p !== '*') throw invalid('the cluster pattern is *');
  else if (p.indexOf('*') !== -1 && p.indexOf('*') !== p.length - 1) throw invalid('* may only end a pattern (prefix match)');
  const spec: AclRuleSpec = { principal, effect, action: action as AclAction, resourceType: type, pattern: p };
  return { id: ruleId(spec), ...spec, createdAt: now };
}

export function ruleId(spec: AclRuleSpec): string {
  const text = [spec.principal, spec.effect, spec.action, spec.resourceType, spec.pattern].join('\u0000');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** [MQTT-4.7.1-2] `#` only last and alone in its level; [MQTT-4.7.1-3] `+` alone in its level. */
function checkFilter(filter: string): void {
  const levels = filter.split('/');
  levels.forEach((level, i) => {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) throw invalid(`invalid MQTT filter "${filter}": misplaced #`);
    if (level.includes('+') && level !== '+') throw invalid(`invalid MQTT filter "${filter}": misplaced +`);
  });
}

/** `$share/<group>/<filter>` [MQTT-4.8.2] is authorized as its filter. */
export function stripShare(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const slash = filter.indexOf('/', 7);
  return slash < 0 ? filter : filter.slice(slash + 1);
}

/** [MQTT-4.7.2-1]: a filter starting with a wildcard does not match topics starting with `$`. */
const dollarBlocked = (topicLevel: string, filterLevel: string): boolean =>
  topicLevel.startsWith('$') && (filterLevel === '+' || filterLevel === '#');

/** Whether topic name `topic` matches `filter`. */
export function topicMatches(filter: string[], topic: string[]): boolean {
  if (topic.length > 0 && filter.length > 0 && dollarBlocked(topic[0], filter[0])) return false;
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '#') return true;
    if (i >= topic.length) return false;
    if (filter[i] !== '+' && filter[i] !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

/** Whether every topic `inner` can match is matched by `outer`. */
export function filterCovers(outer: string[], inner: string[]): boolean {
  if (inner.length > 0 && outer.length > 0 && dollarBlocked(inner[0], outer[0])) return false;
  for (let i = 0; i < outer.length; i++) {
    if (outer[i] === '#') return true;
    if (i >= inner.length || inner[i] === '#') return false;
    if (outer[i] !== '+' && (inner[i] === '+' || outer[i] !== inner[i])) return false;
  }
  return outer.length === inner.length;
}

/** Whether some topic matches both filters. */
export function filtersOverlap(a: string[], b: string[]): boolean {
  if (a.length > 0 && b.length > 0 && (dollarBlocked(a[0], b[0]) || dollarBlocked(b[0], a[0]))) return false;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === '#' || b[i] === '#') return true;
    if (i >= a.length || i >= b.length) return false;
    if (a[i] !== '+' && b[i] !== '+' && a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * The rule's MQTT filter for this principal. `clean` is false when a placeholder had no value, or one holding `/`,
 * `+` or `#`: an allow rule then does not apply (it would widen the filter), while a deny rule applies with the value
 * as it is (or to everything when there is none) — failing closed.
 */
function substitute(pattern: string, principal: Principal): { filter: string; clean: boolean; missing: boolean } {
  let clean = true;
  let missing = false;
  const filter = pattern.replace(/%[uc]/g, (token) => {
    const value = token === '%u' ? principal.user : principal.clientId;
    if (!value) missing = true;
    else if (/[/+#]/.test(value)) clean = false;
    return value ?? '';
  });
  return { filter, clean: clean && !missing, missing };
}

function namePatternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** Whether `rule` applies to this request (the caller picked the rules of the principal and of `*`). */
export function ruleMatches(rule: AclRule, principal: Principal, action: AclAction, resource: Resource): boolean {
  if (rule.resourceType !== resource.type || rule.action !== action) return false;
  if (resource.type !== 'mqtt') return resource.type === 'cluster' || namePatternMatches(rule.pattern, resource.name);
  const { filter, clean, missing } = substitute(rule.pattern, principal);
  if (!clean) return rule.effect === 'deny' && (missing || filterMatchesRequest(filter, action, resource.name, 'deny'));
  return filterMatchesRequest(filter, action, resource.name, rule.effect);
}

function filterMatchesRequest(filter: string, action: AclAction, name: string, effect: AclEffect): boolean {
  const ruleLevels = filter.split('/');
  if (action === 'publish') return topicMatches(ruleLevels, name.split('/'));
  const wanted = stripShare(name).split('/');
  return effect === 'allow' ? filterCovers(ruleLevels, wanted) : filtersOverlap(ruleLevels, wanted);
}
