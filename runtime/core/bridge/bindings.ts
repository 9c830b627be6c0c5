/**
 * Which Kafka topics an MQTT topic name is bound to. Bindings are few and change rarely while publishes are many
 * and repeat their topic names, so the answer per MQTT topic name (with its partition and key bytes) is cached and
 * the cache is dropped whenever a binding or a partition count changes.
 */
import type { TopicRecord } from '../../meta/records.js';
import { mqttMatches } from '../topic-names.js';
import { partitionForKey } from './murmur2.js';

/** Where one MQTT message goes in one bound Kafka topic. */
export interface BindingTarget {
  readonly topic: string;
  readonly partition: number;
  /** The record key: the MQTT topic name as UTF-8. */
  readonly key: Buffer;
  /**
   * The first bound topic (by name) of the message: MQTT subscribers get the message from this topic's log only,
   * so a topic name bound to several Kafka topics is still delivered once.
   */
  readonly primary: boolean;
  /** Set by the appender: its queue for this partition, so a publish costs no lookup by name. */
  queue?: object;
  /** Set by the bridge: the partition's dispatcher, for the same reason. */
  dispatcher?: object;
}

interface Bound {
  readonly filters: readonly string[];
  readonly partitions: number;
}

const NONE: readonly BindingTarget[] = [];
const MAX_CACHED = 10_000;

export class BindingIndex {
  private readonly bound = new Map<string, Bound>();
  /** Bound topic names in name order (the primary is the first match). */
  private names: string[] = [];
  private readonly cache = new Map<string, readonly BindingTarget[]>();
  private lastTopic: string | undefined;
  private lastTargets: readonly BindingTarget[] = NONE;

  /** Adds, replaces or (with no bindings) removes a topic. Returns true when the topic is bound afterwards. */
  set(record: TopicRecord): boolean {
    if (record.mqttBindings.length === 0) {
      this.remove(record.name);
      return false;
    }
    this.bound.set(record.name, { filters: [...record.mqttBindings], partitions: record.partitions });
    this.changed();
    return true;
  }

  remove(topic: string): void {
    if (this.bound.delete(topic)) this.changed();
  }

  isBound(topic: string): boolean {
    return this.bound.has(topic);
  }

  filtersOf(topic: string): readonly string[] {
    return this.bound.get(topic)?.filters ?? [];
  }

  topics(): string[] {
    return [...this.names];
  }

  /** The bound topics an MQTT PUBLISH to `mqttTopic` is appended to; empty when it is not bound. */
  targets(mqttTopic: string): readonly BindingTarget[] {
    // A publisher repeats its topic name, and the decoder hands over the same string object while it does.
    if (mqttTopic === this.lastTopic) return this.lastTargets;
    let hit = this.cache.get(mqttTopic);
    if (hit === undefined) {
      hit = this.compute(mqttTopic);
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(mqttTopic, hit);
    }
    this.lastTopic = mqttTopic;
    this.lastTargets = hit;
    return hit;
  }

  /** The Kafka topic MQTT subscribers receive `mqttTopic`'s messages from, if it is bound. */
  primaryOf(mqttTopic: string): string | undefined {
    const targets = this.targets(mqttTopic);
    return targets.length > 0 ? targets[0].topic : undefined;
  }

  /**
   * Bound topics some of whose records an MQTT subscription to one of `filters` could receive: a binding
   * overlaps a filter, or the topic's own name (the MQTT topic of records without a usable key) matches one.
   */
  overlapping(filters: readonly string[]): string[] {
    return this.names.filter((name) => {
      const bound = this.bound.get(name)!;
      return filters.some((f) => mqttMatches(f, name) || bound.filters.some((b) => filtersOverlap(f, b)));
    });
  }

  private compute(mqttTopic: string): readonly BindingTarget[] {
    let out: BindingTarget[] | undefined;
    let key: Buffer | undefined;
    for (const name of this.names) {
      const bound = this.bound.get(name)!;
      if (!bound.filters.some((f) => mqttMatches(f, mqttTopic))) continue;
      key ??= Buffer.from(mqttTopic);
      (out ??= []).push({ topic: name, partition: partitionForKey(key, bound.partitions), key, primary: out.length === 0 });
    }
    return out ?? NONE;
  }

  private changed(): void {
    this.names = [...this.bound.keys()].sort();
    this.cache.clear();
    this.lastTopic = undefined;
  }
}

/** Whether some topic name matches both filters (wildcards on either side). [MQTT-4.7.1-2] [MQTT-4.7.2-1] */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  // A leading wildcard does not match `$` topics, so it cannot meet a filter that names one.
  const wild = (l: string): boolean => l === '+' || l === '#';
  if ((wild(x[0]) && y[0].startsWith('$')) || (wild(y[0]) && x[0].startsWith('$'))) return false;
  let i = 0;
  for (;;) {
    const endX = i === x.length;
    const endY = i === y.length;
    if (endX && endY) return true;
    // "a/#" also matches "a" itself.
    if (endX) return y[i] === '#' && i === y.length - 1;
    if (endY) return x[i] === '#' && i === x.length - 1;
    if (x[i] === '#' || y[i] === '#') return true;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
    i++;
  }
}
