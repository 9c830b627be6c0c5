/**
 * The subscription trie: one node per topic level, subscriptions hang on the node where their filter ends. Matching
 * walks at most the topic's levels (times the `+` branches), so its cost does not grow with the number of filters.
 */
import type { QoS, Subscriber, SubscriptionOptions } from './message.js';
import { SharedGroup } from './shared.js';

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  subs: Map<Subscriber, SubscriptionOptions> | undefined;
  shared: Map<string, SharedGroup> | undefined;

  isEmpty(): boolean {
    return this.children.size === 0 && !this.subs?.size && !this.shared?.size;
  }
}

/** One subscriber's combined view of every filter of theirs that matched a topic. */
export interface DirectMatch {
  subscriber: Subscriber;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  subscriptionIds: number[] | undefined;
}

export interface MatchResult {
  direct: DirectMatch[];
  shared: SharedGroup[];
}

export class SubscriptionTrie {
  private readonly root = new TrieNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds or replaces a subscription; returns true when it did not exist before. */
  add(filter: string, subscriber: Subscriber, options: SubscriptionOptions): boolean {
    const node = this.nodeFor(filter, true)!;
    node.subs ??= new Map();
    const isNew = !node.subs.has(subscriber);
    node.subs.set(subscriber, options);
    if (isNew) this.count++;
    return isNew;
  }

  remove(filter: string, subscriber: Subscriber): boolean {
    const path = this.pathFor(filter);
    const node = path?.[path.length - 1];
    if (!node?.subs?.delete(subscriber)) return false;
    this.count--;
    this.prune(filter, path!);
    return true;
  }

  addShared(key: string, group: string, filter: string, subscriber: Subscriber, options: SubscriptionOptions): boolean {
    const node = this.nodeFor(filter, true)!;
    node.shared ??= new Map();
    let g = node.shared.get(group);
    if (!g) {
      g = new SharedGroup(key, group, filter);
      node.shared.set(group, g);
    }
    const isNew = g.upsert(subscriber, options);
    if (isNew) this.count++;
    return isNew;
  }

  removeShared(group: string, filter: string, subscriber: Subscriber): boolean {
    const path = this.pathFor(filter);
    const node = path?.[path.length - 1];
    const g = node?.shared?.get(group);
    if (!g?.remove(subscriber)) return false;
    this.count--;
    if (g.members.length === 0) node!.shared!.delete(group);
    this.prune(filter, path!);
    return true;
  }

  sharedGroup(group: string, filter: string): SharedGroup | undefined {
    const path = this.pathFor(filter);
    return path?.[path.length - 1].shared?.get(group);
  }

  /** Every subscription matching `topic`, merged per subscriber. [MQTT-4.7.2-1] `$` topics skip leading wildcards. */
  match(topic: string): MatchResult {
    const levels = topic.split('/');
    const direct = new Map<Subscriber, DirectMatch>();
    const shared: SharedGroup[] = [];
    const dollar = topic.charCodeAt(0) === 36;
    const visit = (node: TrieNode): void => {
      if (node.subs) for (const [s, o] of node.subs) merge(direct, s, o);
      if (node.shared) for (const g of node.shared.values()) shared.push(g);
    };
    const walk = (node: TrieNode, i: number): void => {
      if (i === levels.length) {
        visit(node);
        const hash = node.children.get('#');
        if (hash) visit(hash); // "a/#" also matches "a" [MQTT-4.7.1-2]
        return;
      }
      const wild = !(dollar && i === 0);
      if (wild) {
        const hash = node.children.get('#');
        if (hash) visit(hash);
        const plus = node.children.get('+');
        if (plus) walk(plus, i + 1);
      }
      const exact = node.children.get(levels[i]);
      if (exact) walk(exact, i + 1);
    };
    walk(this.root, 0);
    return { direct: [...direct.values()], shared };
  }

  private nodeFor(filter: string, create: boolean): TrieNode | undefined {
    let node = this.root;
    for (const level of filter.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        if (!create) return undefined;
        child = new TrieNode();
        node.children.set(level, child);
      }
      node = child;
    }
    return node;
  }

  private pathFor(filter: string): TrieNode[] | undefined {
    const path = [this.root];
    for (const level of filter.split('/')) {
      const child = path[path.length - 1].children.get(level);
      if (!child) return undefined;
      path.push(child);
    }
    return path;
  }

  /** Drops nodes left empty so a churn of unique filters does not leak memory. */
  private prune(filter: string, path: TrieNode[]): void {
    const levels = filter.split('/');
    for (let i = path.length - 1; i > 0; i--) {
      if (!path[i].isEmpty()) return;
      path[i - 1].children.delete(levels[i - 1]);
    }
  }
}

function merge(into: Map<Subscriber, DirectMatch>, s: Subscriber, o: SubscriptionOptions): void {
  const prev = into.get(s);
  if (!prev) {
    into.set(s, {
      subscriber: s,
      qos: o.qos,
      noLocal: o.noLocal,
      retainAsPublished: o.retainAsPublished,
      subscriptionIds: o.subscriptionId ? [o.subscriptionId] : undefined,
    });
    return;
  }
  // Overlapping subscriptions: one delivery with the highest QoS and every identifier [MQTT-3.3.4-2] [MQTT-3.3.4-3].
  if (o.qos > prev.qos) prev.qos = o.qos;
  prev.noLocal &&= o.noLocal;
  prev.retainAsPublished ||= o.retainAsPublished;
  if (o.subscriptionId) (prev.subscriptionIds ??= []).push(o.subscriptionId);
}
