/**
 * Retained messages [MQTT 3.3.1.3]: the last retained message per topic, kept in a topic tree so a wildcard
 * subscription finds its matches without scanning every topic, and persisted in the MetaStore ('retained'
 * namespace, key = topic) with write-behind batching.
 */
import type { MetaStore } from '../../meta/store.js';
import { isExpired, type MqttMessage } from './message.js';
import { decodeMessage, encodeMessage, type StoredMessage } from './persist-codec.js';
import type { WriteBehind } from './write-behind.js';

class Node {
  readonly children = new Map<string, Node>();
  msg: MqttMessage | undefined;
}

export class RetainedStore {
  private readonly root = new Node();
  private count = 0;

  constructor(private readonly writer?: WriteBehind) {}

  get size(): number {
    return this.count;
  }

  /** Loads what a previous run persisted. */
  async load(meta: MetaStore): Promise<void> {
    const now = Date.now();
    for (const entry of await meta.list<StoredMessage>('retained')) {
      const msg = decodeMessage(entry.value);
      if (!isExpired(msg, now)) this.setInMemory(msg.topic, msg);
    }
  }

  /** Stores `msg` as the topic's retained message, or clears it when the payload is empty [MQTT-3.3.1-10]. */
  set(msg: MqttMessage): void {
    // Broker statistics are regenerated after a restart, so they are not persisted.
    const writer = msg.topic.startsWith('$SYS/') ? undefined : this.writer;
    if (msg.payload.length === 0) {
      if (this.setInMemory(msg.topic, undefined)) void writer?.delete('retained', msg.topic).catch(() => {});
      return;
    }
    this.setInMemory(msg.topic, msg);
    void writer?.put('retained', msg.topic, encodeMessage(msg)).catch(() => {});
  }

  get(topic: string): MqttMessage | undefined {
    let node: Node | undefined = this.root;
    for (const level of topic.split('/')) {
      node = node.children.get(level);
      if (!node) return undefined;
    }
    return node.msg;
  }

  /** Retained messages matching a filter, expired ones dropped on the way. [MQTT-4.7.2-1] */
  match(filter: string, now = Date.now()): MqttMessage[] {
    const levels = filter.split('/');
    const out: MqttMessage[] = [];
    const take = (node: Node): void => {
      const msg = node.msg;
      if (!msg) return;
      if (isExpired(msg, now)) this.set({ ...msg, payload: Buffer.alloc(0) });
      else out.push(msg);
    };
    const all = (node: Node, top: boolean): void => {
      for (const [name, child] of node.children) {
        if (top && name.startsWith('$')) continue;
        take(child);
        all(child, false);
      }
    };
    const walk = (node: Node, i: number): void => {
      if (i === levels.length) return take(node);
      const level = levels[i];
      if (level === '#') {
        if (i > 0) take(node); // "a/#" matches "a" itself
        return all(node, i === 0);
      }
      if (level === '+') {
        for (const [name, child] of node.children) {
          if (i === 0 && name.startsWith('$')) continue;
          walk(child, i + 1);
        }
        return;
      }
      const child = node.children.get(level);
      if (child) walk(child, i + 1);
    };
    walk(this.root, 0);
    return out;
  }

  private setInMemory(topic: string, msg: MqttMessage | undefined): boolean {
    const levels = topic.split('/');
    const path: Node[] = [this.root];
    for (const level of levels) {
      const parent = path[path.length - 1];
      let child = parent.children.get(level);
      if (!child) {
        if (!msg) return false;
        child = new Node();
        parent.children.set(level, child);
      }
      path.push(child);
    }
    const node = path[path.length - 1];
    const had = node.msg !== undefined;
    node.msg = msg;
    if (had && !msg) this.count--;
    if (!had && msg) this.count++;
    if (!msg) {
      for (let i = path.length - 1; i > 0 && path[i].children.size === 0 && !path[i].msg; i--) {
        path[i - 1].children.delete(levels[i - 1]);
      }
    }
    return had || msg !== undefined;
  }
}
