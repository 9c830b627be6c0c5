/**
 * The cluster-wide MQTT route table: which broker has sessions subscribed to which filters. Each broker keeps its
 * own entry in the MetaStore namespace 'mqtt-routes' (key = broker id, value = its distinct filters, `$share/...`
 * ones included) rewritten whenever its subscriptions change, and reads everyone's entries on a change notice and
 * every `pollMs`. Entries of brokers without a live lease are ignored (their sessions are adopted elsewhere).
 */
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';

export interface RouteEntry {
  readonly filters: string[];
  /** Client ids of the persistent sessions this broker holds (online or not): their owner. */
  readonly sessions?: string[];
  readonly updatedAt: number;
}

interface BrokerRoutes {
  readonly direct: string[];
  /** Whole `$share/{group}/{filter}` key → its filter. */
  readonly shared: Map<string, string>;
}

/** [MQTT-4.7.1-2] / [MQTT-4.7.2-1]: `+` one level, `#` the rest; wildcards do not match `$` topics at level one. */
export function filterMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // [MQTT-4.7.1-2] also matches the parent level
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Splits `$share/{group}/{filter}`; undefined for a plain filter. */
export function sharedParts(key: string): { group: string; filter: string } | undefined {
  if (!key.startsWith('$share/')) return undefined;
  const slash = key.indexOf('/', 7);
  if (slash < 0) return undefined;
  return { group: key.slice(7, slash), filter: key.slice(slash + 1) };
}

export interface RouteTableOptions {
  readonly brokerId: string;
  readonly meta: MetaStore;
  readonly log: Logger;
  readonly pollMs: number;
  /** The filters this broker's sessions subscribe to right now. */
  readonly localFilters: () => Iterable<string>;
  /** The persistent sessions this broker holds right now. */
  readonly localSessions: () => Iterable<string>;
  /** Live broker ids (a lease not expired). */
  readonly live: () => readonly string[];
}

export class MqttRouteTable {
  private remote = new Map<string, BrokerRoutes>();
  /** Every broker's entry as last read, this one's and dead brokers' included. */
  private raw = new Map<string, RouteEntry>();
  private published = '\u0000';
  private writing: Promise<void> | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: RouteTableOptions) {}

  /** Reads this broker's entry left by an earlier run (before `start` replaces it). */
  async previous(): Promise<RouteEntry | undefined> {
    return (await this.o.meta.get<RouteEntry>('mqtt-routes', this.o.brokerId))?.value;
  }

  async start(): Promise<void> {
    this.unwatch = this.o.meta.watch('mqtt-routes', (change) => {
      if (change.key !== this.o.brokerId) void this.refresh().catch(() => undefined);
    });
    await this.publish();
    await this.refresh();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.changed();
        void this.refresh()
          .catch((err: unknown) => this.o.log.debug({ err }, 'mqtt route table refresh failed'))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.o.pollMs);
      this.timer.unref();
    };
    tick();
  }

  /** Stops following; `forget` also deletes this broker's entry (a broker leaving on purpose). */
  async stop(forget: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unwatch?.();
    await this.writing?.catch(() => undefined);
    if (forget) await this.o.meta.delete('mqtt-routes', this.o.brokerId).catch(() => undefined);
  }

  /** Local subscriptions changed: rewrites this broker's entry (coalescing changes made while a write is out). */
  changed(): void {
    if (this.stopped) return;
    if (this.writing) {
      this.dirty = true;
      return;
    }
    this.writing = this.publish()
      .catch((err: unknown) => this.o.log.warn({ err }, 'mqtt route table write failed'))
      .finally(() => {
        this.writing = undefined;
        if (this.dirty) {
          this.dirty = false;
          this.changed();
        }
      });
  }

  /** Resolves once this broker's entry reflects every change made so far. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Other live brokers with a plain filter matching `topic`. */
  directTargets(topic: string): string[] {
    const out: string[] = [];
    const live = new Set(this.o.live());
    for (const [id, r] of this.remote) {
      if (live.has(id) && r.direct.some((f) => filterMatches(f, topic))) out.push(id);
    }
    return out;
  }

  /** For every shared group matching `topic`, the other live brokers with members: `$share/...` key → ids. */
  sharedTargets(topic: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const live = new Set(this.o.live());
    for (const [id, r] of this.remote) {
      if (!live.has(id)) continue;
      for (const [key, filter] of r.shared) {
        if (!filterMatches(filter, topic)) continue;
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push(id);
      }
    }
    return out;
  }

  /** Entries of brokers that are not live (not this one): id → entry. */
  deadEntries(): Map<string, RouteEntry> {
    const live = new Set(this.o.live());
    const out = new Map<string, RouteEntry>();
    for (const [id, e] of this.raw) if (id !== this.o.brokerId && !live.has(id)) out.set(id, e);
    return out;
  }

  /** The sessions a broker's entry listed when last read (undefined once the entry is gone). */
  sessionsOf(brokerId: string): readonly string[] | undefined {
    const e = this.raw.get(brokerId);
    return e ? (e.sessions ?? []) : undefined;
  }

  /** Live brokers other than this one whose entry lists `clientId`'s session. */
  holders(clientId: string): string[] {
    const live = new Set(this.o.live());
    const out: string[] = [];
    for (const [id, e] of this.raw) if (id !== this.o.brokerId && live.has(id) && e.sessions?.includes(clientId)) out.push(id);
    return out;
  }

  /** Deletes a dead broker's entry once its sessions were taken over (only if unchanged since read). */
  async forget(brokerId: string): Promise<void> {
    const e = await this.o.meta.get<RouteEntry>('mqtt-routes', brokerId);
    if (e && e.value.updatedAt === this.raw.get(brokerId)?.updatedAt) {
      await this.o.meta.delete('mqtt-routes', brokerId, { expectedVersion: e.version }).catch(() => undefined);
    }
    this.raw.delete(brokerId);
  }

  /** Re-reads every broker's entry. */
  async refresh(): Promise<void> {
    const entries = await this.o.meta.list<RouteEntry>('mqtt-routes');
    const next = new Map<string, BrokerRoutes>();
    const raw = new Map<string, RouteEntry>();
    for (const e of entries) {
      if (!Array.isArray(e.value?.filters)) continue;
      raw.set(e.key, e.value);
      if (e.key === this.o.brokerId) continue;
      const direct: string[] = [];
      const shared = new Map<string, string>();
      for (const f of e.value.filters) {
        const parts = sharedParts(f);
        if (parts) shared.set(f, parts.filter);
        else direct.push(f);
      }
      next.set(e.key, { direct, shared });
    }
    this.remote = next;
    this.raw = raw;
  }

  private async publish(): Promise<void> {
    const filters = [...new Set(this.o.localFilters())].sort();
    const sessions = [...new Set(this.o.localSessions())].sort();
    const text = `${filters.join('\n')}\u0000${sessions.join('\n')}`;
    if (text === this.published) return;
    await this.o.meta.put<RouteEntry>('mqtt-routes', this.o.brokerId, { filters, sessions, updatedAt: Date.now() });
    this.published = text;
  }
}
