/**
 * Change notification for the DynamoDB meta store. Changes made through this store are delivered as soon as
 * DynamoDB has confirmed them. Changes made by other processes are found by polling: while a namespace has
 * watchers it is queried (consistently) every `pollMs`, and what changed since the last look, key by key (version
 * and write id), is delivered as puts and deletes. A poll reads the whole namespace, so its cost grows with the
 * namespace; namespaces nobody watches are never polled. As in the embedded store, expiry emits no event: a key
 * that disappears once its expiry has passed is not reported.
 */
import type { Logger } from '../../logger.js';
import type { Change, Namespace } from '../store.js';
import { isLive, toEntry, type Stored } from './item.js';
import type { PendingChange } from './transact.js';

type Listener = (change: Change<unknown>) => void;

/** Every item of a namespace, expired ones included. */
export type NamespaceReader = (ns: Namespace) => Promise<Stored[]>;

/** Enough of an entry to tell whether it changed, without keeping its value. */
interface Seen {
  readonly version: number;
  readonly writeId?: string;
  readonly expiresAt?: number;
}

const seen = ({ version, writeId, expiresAt }: Stored): Seen => ({ version, writeId, expiresAt });

class NamespaceWatch {
  readonly listeners = new Set<Listener>();
  /** What the watchers were last told about each live key. */
  readonly known = new Map<string, Seen>();
  /** Keys changed locally, with the poll sequence number current at the time. */
  readonly touched = new Map<string, number>();
  seq = 0;
  primed = false;
  stopped = false;
  timer?: NodeJS.Timeout;
}

const idOf = (ns: Namespace, key: string) => `${ns}\u0000${key}`;

export class DynamoWatchHub {
  private readonly watches = new Map<Namespace, NamespaceWatch>();
  /** Local writes sent and not yet settled, per entry: a poll may already see them, but must not report them. */
  private readonly writing = new Map<string, number>();
  private lastWarn = 0;

  constructor(
    private readonly read: NamespaceReader,
    private readonly pollMs: number,
    private readonly log?: Logger,
  ) {}

  add(ns: Namespace, listener: Listener): () => void {
    let watch = this.watches.get(ns);
    if (watch === undefined) {
      const started = new NamespaceWatch();
      this.watches.set(ns, started);
      this.schedule(ns, started, 0);
      watch = started;
    }
    const w = watch;
    // Wrapped so the same function can be subscribed twice and unsubscribed independently.
    const own: Listener = (change) => listener(change);
    w.listeners.add(own);
    return () => {
      w.listeners.delete(own);
      if (w.listeners.size === 0 && this.watches.get(ns) === w) this.stop(ns, w);
    };
  }

  /**
   * Marks local writes of these entries as in flight, until the returned function is called (after `local` when
   * they succeeded). Until then polls leave the entries alone, so a poll that sees a local write before its response
   * arrived neither reports it nor, as the first poll of a watch, silently takes it as already known.
   */
  begin(targets: ReadonlyArray<{ readonly ns: Namespace; readonly key: string }>): () => void {
    const ids = targets.map(({ ns, key }) => idOf(ns, key));
    for (const id of ids) this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      for (const id of ids) {
        const left = (this.writing.get(id) ?? 1) - 1;
        if (left > 0) this.writing.set(id, left);
        else this.writing.delete(id);
      }
    };
  }

  /** Delivers changes this process made, in order. */
  local(changes: readonly PendingChange[]): void {
    const now = Date.now();
    for (const change of changes) {
      const w = this.watches.get(change.ns);
      if (w === undefined) continue;
      w.touched.set(change.key, w.seq);
      if (change.stored !== undefined) {
        const prev = w.known.get(change.key);
        // Two writes of one key may complete out of order: never step watchers back to an older version.
        if (prev !== undefined && isLive(prev, now) && prev.version >= change.stored.version) continue;
        w.known.set(change.key, seen(change.stored));
      } else {
        w.known.delete(change.key);
      }
      this.deliver(w, change);
    }
  }

  close(): void {
    for (const [ns, w] of [...this.watches]) this.stop(ns, w);
  }

  private schedule(ns: Namespace, w: NamespaceWatch, delay: number): void {
    w.timer = setTimeout(() => void this.poll(ns, w), delay);
    w.timer.unref();
  }

  private stop(ns: Namespace, w: NamespaceWatch): void {
    w.stopped = true;
    clearTimeout(w.timer);
    this.watches.delete(ns);
  }

  private async poll(ns: Namespace, w: NamespaceWatch): Promise<void> {
    const seq = ++w.seq;
    let items: Stored[];
    try {
      items = await this.read(ns);
    } catch (err) {
      if (w.stopped) return;
      if (Date.now() - this.lastWarn > 30_000) {
        this.lastWarn = Date.now();
        this.log?.warn({ err, ns }, 'meta watch poll failed; retrying');
      }
      this.schedule(ns, w, this.pollMs);
      return;
    }
    if (w.stopped) return;
    // A key written locally while this poll ran is reported by that write, not by the poll.
    const changedSince = (key: string) => (w.touched.get(key) ?? -1) >= seq || this.writing.has(idOf(ns, key));
    const now = Date.now();
    const present = new Set<string>();
    for (const item of items) {
      if (!isLive(item, now)) continue;
      present.add(item.key);
      if (changedSince(item.key)) continue;
      const prev = w.known.get(item.key);
      if (prev?.version === item.version && prev.writeId === item.writeId) continue;
      w.known.set(item.key, seen(item));
      if (w.primed) this.deliver(w, { type: 'put', ns, key: item.key, stored: item });
    }
    for (const [key, prev] of w.known) {
      if (present.has(key) || changedSince(key)) continue;
      w.known.delete(key);
      if (w.primed && isLive(prev, now)) this.deliver(w, { type: 'delete', ns, key });
    }
    for (const [key, at] of w.touched) if (at < seq) w.touched.delete(key);
    w.primed = true;
    this.schedule(ns, w, this.pollMs);
  }

  private deliver(w: NamespaceWatch, change: PendingChange): void {
    for (const listener of [...w.listeners]) {
      if (!w.listeners.has(listener)) continue; // unsubscribed by an earlier listener of this change
      try {
        listener(toChange(change));
      } catch (err) {
        this.log?.warn({ err, ns: change.ns, key: change.key }, 'meta watch listener threw');
      }
    }
  }
}

/** A fresh object per listener, so listeners cannot affect each other. */
function toChange(change: PendingChange): Change<unknown> {
  const { type, ns, key, stored } = change;
  return stored === undefined ? { type, ns, key } : { type, ns, key, entry: toEntry(ns, stored) };
}
