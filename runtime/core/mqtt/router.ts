/**
 * The MQTT router: subscriptions (plain and shared) in a trie, retained messages, and `publish`, which hands a
 * message to every matching session. Match results are cached per topic name and the cache is dropped whenever a
 * subscription changes, so steady traffic on a set of topics costs one map lookup per publish.
 */
import type { MqttMessage, QoS, Subscriber, SubscriptionOptions } from './message.js';
import type { RetainedStore } from './retained.js';
import { parseSharedFilter, type SharedGroup } from './shared.js';
import { SubscriptionTrie, type MatchResult } from './trie.js';

/** Called for every message the router accepts, before delivery. */
export type PublishObserver = (msg: MqttMessage) => void;

/**
 * Cross-protocol bindings: takes over a message whose topic is bound to a log. It returns undefined for a message
 * it leaves to the router, else a promise that settles once the message is stored and delivered (it calls
 * `route` itself once the message is in the log); the publisher's PUBACK/PUBREC waits for that promise.
 */
export type PublishBinding = (msg: MqttMessage) => Promise<void> | undefined;

const MAX_CACHED_TOPICS = 10_000;

export class MqttRouter {
  readonly trie = new SubscriptionTrie();
  private readonly cache = new Map<string, MatchResult>();
  private readonly observers: PublishObserver[] = [];
  private binding: PublishBinding | undefined;
  /**
   * Cluster MQTT (runtime/cluster/mqtt-*.ts): says whether this broker delivers a message to a shared group (another
   * broker's members may have been chosen), and hears of every change of subscriptions (the route table).
   */
  shareGate: ((groupKey: string, msg: MqttMessage) => boolean) | undefined;
  onSubscriptionsChanged: (() => void) | undefined;
  /** Messages that found no subscriber (for statistics). */
  unrouted = 0;

  constructor(readonly retained: RetainedStore) {}

  addObserver(observer: PublishObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** Shows a message to the observers without routing it (a record that reached MQTT from a Kafka producer). */
  observe(msg: MqttMessage): void {
    for (let i = 0; i < this.observers.length; i++) this.observers[i](msg);
  }

  /** Sets (or with undefined removes) the binding that takes over messages of bound topics. */
  setBinding(binding: PublishBinding | undefined): void {
    this.binding = binding;
  }

  /** Adds or replaces a subscription (`$share/...` filters join a group). Returns true when it is new. */
  subscribe(subscriber: Subscriber, filter: string, options: SubscriptionOptions): boolean {
    this.cache.clear();
    this.onSubscriptionsChanged?.();
    const shared = parseSharedFilter(filter);
    if (typeof shared === 'string') throw new Error(shared);
    if (shared) return this.trie.addShared(filter, shared.group, shared.filter, subscriber, options);
    return this.trie.add(filter, subscriber, options);
  }

  unsubscribe(subscriber: Subscriber, filter: string): boolean {
    this.cache.clear();
    this.onSubscriptionsChanged?.();
    const shared = parseSharedFilter(filter);
    if (typeof shared === 'string') return false;
    if (shared) return this.trie.removeShared(shared.group, shared.filter, subscriber);
    return this.trie.remove(filter, subscriber);
  }

  /**
   * Accepts one message: observers see it, a binding may take it over, else it is routed now. Returns a promise
   * when the publisher's PUBACK/PUBREC must wait (the message is being stored first).
   */
  publish(msg: MqttMessage): void | Promise<void> {
    for (let i = 0; i < this.observers.length; i++) this.observers[i](msg);
    if (this.binding !== undefined) {
      const claimed = this.binding(msg);
      if (claimed !== undefined) return claimed;
    }
    return this.route(msg);
  }

  /**
   * Delivers one message to every matching session (and stores it as retained). Returns a promise when some
   * delivery had to be persisted first (an offline persistent session); the publisher's PUBACK/PUBREC waits for it.
   */
  route(msg: MqttMessage): void | Promise<void> {
    if (msg.retain) this.retained.set(msg);
    let match = this.cache.get(msg.topic);
    if (match === undefined) {
      match = this.trie.match(msg.topic);
      if (this.cache.size >= MAX_CACHED_TOPICS) this.cache.clear();
      this.cache.set(msg.topic, match);
    }
    const { direct, shared } = match;
    if (direct.length === 0 && shared.length === 0) {
      this.unrouted++;
      return;
    }
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < direct.length; i++) {
      const d = direct[i];
      if (d.noLocal && msg.origin === d.subscriber.clientId) continue; // [MQTT-3.8.3-3]
      const qos = (d.qos < msg.qos ? d.qos : msg.qos) as QoS;
      // [MQTT-3.3.1-12] / [MQTT-3.3.1-13]: live messages lose RETAIN unless Retain As Published.
      const r = d.subscriber.deliver(msg, qos, d.retainAsPublished && msg.retain, d.subscriptionIds, undefined);
      if (r) (waits ??= []).push(r);
    }
    for (let i = 0; i < shared.length; i++) {
      if (this.shareGate !== undefined && !this.shareGate(shared[i].key, msg)) continue;
      const r = this.deliverShared(shared[i], msg, undefined);
      if (r) (waits ??= []).push(r);
    }
    if (waits) return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /**
   * Hands a message of a shared subscription to one member other than `exclude` (used when a member leaves with
   * messages in flight). Returns false when no other member exists.
   */
  redistribute(shareKey: string, msg: MqttMessage, exclude: Subscriber): boolean {
    const shared = parseSharedFilter(shareKey);
    if (!shared || typeof shared === 'string') return false;
    const group = this.trie.sharedGroup(shared.group, shared.filter);
    if (!group) return false;
    const member = group.pick(exclude);
    if (!member) return false;
    void this.deliverTo(group, member.subscriber, member.options, msg);
    return true;
  }

  private deliverShared(group: SharedGroup, msg: MqttMessage, exclude: Subscriber | undefined): void | Promise<void> {
    const member = group.pick(exclude);
    if (member) return this.deliverTo(group, member.subscriber, member.options, msg);
  }

  private deliverTo(group: SharedGroup, s: Subscriber, o: SubscriptionOptions, msg: MqttMessage): void | Promise<void> {
    const qos = (o.qos < msg.qos ? o.qos : msg.qos) as QoS;
    const ids = o.subscriptionId ? [o.subscriptionId] : undefined;
    return s.deliver(msg, qos, o.retainAsPublished && msg.retain, ids, group.key);
  }
}
