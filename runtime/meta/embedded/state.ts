/**
 * The in-memory image of the embedded meta store: one Map per namespace. Values are kept as their JSON text and
 * parsed on every read, so callers can never mutate stored state through an object they passed in or got back, and
 * what a reader sees before a restart is exactly what it sees after one.
 */
import type { Entry, Namespace } from '../store.js';
import { putItem, type ReplayItem } from './log-record.js';

export interface Stored {
  readonly version: number;
  readonly valueJson: string;
  readonly expiresAt?: number;
  /** Length of this entry's log item, for the live-size estimate. */
  readonly size: number;
}

export function isExpired(stored: Stored, now: number): boolean {
  return stored.expiresAt !== undefined && stored.expiresAt <= now;
}

export function toEntry<T>(ns: Namespace, key: string, stored: Stored): Entry<T> {
  const value = JSON.parse(stored.valueJson) as T;
  return stored.expiresAt === undefined
    ? { ns, key, value, version: stored.version }
    : { ns, key, value, version: stored.version, expiresAt: stored.expiresAt };
}

export class MetaState {
  private readonly maps = new Map<Namespace, Map<string, Stored>>();
  /** Approximate bytes a snapshot of the current state would take. */
  liveBytes = 0;

  /** The entry if it exists and has not expired; an expired one is purged on the way. */
  live(ns: Namespace, key: string, now: number): Stored | undefined {
    const stored = this.maps.get(ns)?.get(key);
    if (stored === undefined) return undefined;
    if (!isExpired(stored, now)) return stored;
    this.remove(ns, key);
    return undefined;
  }

  set(ns: Namespace, key: string, stored: Stored): void {
    let map = this.maps.get(ns);
    if (map === undefined) {
      map = new Map();
      this.maps.set(ns, map);
    }
    this.liveBytes += stored.size - (map.get(key)?.size ?? 0);
    map.set(key, stored);
  }

  remove(ns: Namespace, key: string): boolean {
    const map = this.maps.get(ns);
    const stored = map?.get(key);
    if (map === undefined || stored === undefined) return false;
    map.delete(key);
    this.liveBytes -= stored.size;
    return true;
  }

  /** Live entries of `ns` whose key starts with `prefix`, sorted by key (UTF-16 code unit order). */
  list(ns: Namespace, prefix: string, now: number): [string, Stored][] {
    const map = this.maps.get(ns);
    if (map === undefined) return [];
    const out: [string, Stored][] = [];
    for (const [key, stored] of map) {
      if (!key.startsWith(prefix)) continue;
      if (isExpired(stored, now)) this.remove(ns, key);
      else out.push([key, stored]);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  applyReplay(item: ReplayItem): void {
    if (item.kind === 'delete') {
      this.remove(item.ns, item.key);
      return;
    }
    this.set(item.ns, item.key, storedOf(item.ns, item.key, item.version, item.valueJson, item.expiresAt).stored);
  }

  /** Log items for every live entry; expired entries are purged instead. */
  snapshotItems(now: number): string[] {
    const items: string[] = [];
    for (const [ns, map] of this.maps) {
      for (const [key, stored] of map) {
        if (isExpired(stored, now)) this.remove(ns, key);
        else items.push(putItem(ns, key, stored.version, stored.valueJson, stored.expiresAt));
      }
    }
    return items;
  }
}

/** Builds the stored form of a put together with its log item. */
export function storedOf(
  ns: Namespace,
  key: string,
  version: number,
  valueJson: string,
  expiresAt?: number,
): { stored: Stored; item: string } {
  const item = putItem(ns, key, version, valueJson, expiresAt);
  const stored: Stored =
    expiresAt === undefined
      ? { version, valueJson, size: item.length }
      : { version, valueJson, expiresAt, size: item.length };
  return { stored, item };
}
