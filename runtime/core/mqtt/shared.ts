/**
 * Shared subscriptions `$share/{group}/{filter}` [MQTT 4.8.2]: every message matching the filter goes to exactly one
 * member of the group, chosen round robin among the members that are online (any member when none is).
 */
import { mqttFilterError } from '../topic-names.js';
import type { Subscriber, SubscriptionOptions } from './message.js';

export interface SharedFilter {
  group: string;
  filter: string;
}

const PREFIX = '$share/';

/**
 * Splits a `$share/...` filter; returns undefined for ordinary filters and a string describing the problem for a
 * malformed shared one. [MQTT-4.8.2-1] [MQTT-4.8.2-2]
 */
export function parseSharedFilter(filter: string): SharedFilter | string | undefined {
  if (!filter.startsWith(PREFIX)) return undefined;
  const slash = filter.indexOf('/', PREFIX.length);
  if (slash < 0) return 'shared subscription needs $share/{group}/{filter}';
  const group = filter.slice(PREFIX.length, slash);
  if (group.length === 0) return 'share name must not be empty';
  if (group.includes('+') || group.includes('#')) return 'share name must not contain wildcards';
  const inner = filter.slice(slash + 1);
  const problem = mqttFilterError(inner);
  if (problem) return problem;
  return { group, filter: inner };
}

export interface SharedMember {
  subscriber: Subscriber;
  options: SubscriptionOptions;
}

export class SharedGroup {
  readonly members: SharedMember[] = [];
  private next = 0;

  /** `key` is the whole `$share/{group}/{filter}` string; sessions use it to name the subscription. */
  constructor(
    readonly key: string,
    readonly group: string,
    readonly filter: string,
  ) {}

  upsert(subscriber: Subscriber, options: SubscriptionOptions): boolean {
    const existing = this.members.find((m) => m.subscriber === subscriber);
    if (existing) {
      existing.options = options;
      return false;
    }
    this.members.push({ subscriber, options });
    return true;
  }

  remove(subscriber: Subscriber): boolean {
    const i = this.members.findIndex((m) => m.subscriber === subscriber);
    if (i < 0) return false;
    this.members.splice(i, 1);
    if (this.next > i) this.next--;
    return true;
  }

  /** The next member round robin, preferring online ones; `exclude` is skipped (a member that is leaving). */
  pick(exclude?: Subscriber): SharedMember | undefined {
    const n = this.members.length;
    let fallback: SharedMember | undefined;
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n;
      const member = this.members[idx];
      if (member.subscriber === exclude) continue;
      if (member.subscriber.online) {
        this.next = (idx + 1) % n;
        return member;
      }
      fallback ??= member;
    }
    if (fallback) this.next = (this.members.indexOf(fallback) + 1) % n;
    return fallback;
  }
}
