/** Change listeners per namespace. A listener that throws is logged and does not affect the store or other listeners. */
import type { Logger } from '../../logger.js';
import type { Change, Namespace } from '../store.js';
import { toEntry, type Stored } from './state.js';

/** A change as recorded at write time; the entry object is built per listener so listeners cannot affect each other. */
export interface PendingChange {
  type: 'put' | 'delete';
  ns: Namespace;
  key: string;
  stored?: Stored;
}

type Listener = (change: Change<unknown>) => void;

export class WatchHub {
  private readonly listeners = new Map<Namespace, Set<Listener>>();

  constructor(private readonly log?: Logger) {}

  add(ns: Namespace, listener: Listener): () => void {
    let set = this.listeners.get(ns);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(ns, set);
    }
    // Wrapped so the same function can be subscribed twice and unsubscribed independently.
    const own: Listener = (change) => listener(change);
    set.add(own);
    return () => {
      set.delete(own);
    };
  }

  clear(): void {
    this.listeners.clear();
  }

  /** Delivers `changes` in order; called once they are durable. */
  publish(changes: readonly PendingChange[]): void {
    for (const change of changes) {
      const set = this.listeners.get(change.ns);
      if (set === undefined || set.size === 0) continue;
      for (const listener of [...set]) {
        if (!set.has(listener)) continue; // unsubscribed by an earlier listener of this change
        try {
          listener(toChange(change));
        } catch (err) {
          this.log?.warn({ err, ns: change.ns, key: change.key }, 'meta watch listener threw');
        }
      }
    }
  }
}

function toChange(change: PendingChange): Change<unknown> {
  if (change.stored === undefined) return { type: change.type, ns: change.ns, key: change.key };
  return { type: change.type, ns: change.ns, key: change.key, entry: toEntry(change.ns, change.key, change.stored) };
}
