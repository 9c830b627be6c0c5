/**
 * QoS 1/2 messages that could not be forwarded to a broker because it died: kept here until that broker is live
 * again (sent to it then) or its sessions were taken over by another broker (its route entry is gone), then sent
 * to the sessions it held, wherever they are now, for those sessions alone (`only`), so no other subscriber gets a
 * copy twice. Shared-group shares of a parked message are not re-sent (another member may have got it meanwhile).
 */
import type { MqttRouteTable } from '../../runtime/cluster/mqtt-routes.js';
import type { StoredMessage } from '../../runtime/core/mqtt/persist-codec.js';
import type { Logger } from '../../runtime/logger.js';

interface Parked {
  readonly brokerId: string;
  readonly m: StoredMessage;
  readonly shares: string[];
  /** The dead broker's sessions when the message was parked. */
  readonly sessions: readonly string[];
  readonly since: number;
}

const MAX_PARKED = 100_000;
const MAX_AGE_MS = 10 * 60_000;

export interface ParkedDeps {
  readonly routes: MqttRouteTable;
  readonly log: Logger;
  readonly live: () => readonly string[];
  /** Sends a publish to a broker (throws on failure). */
  readonly send: (brokerId: string, m: StoredMessage, shares: string[], only?: string[]) => Promise<void>;
  /** Whether this broker holds a session now. */
  readonly holdsHere: (clientId: string) => boolean;
  /** Delivers locally to those sessions alone. */
  readonly deliverHere: (m: StoredMessage, clients: string[]) => Promise<void>;
}

export class ParkedForwards {
  private parked: Parked[] = [];
  private dropped = 0;

  constructor(private readonly d: ParkedDeps) {}

  get size(): number {
    return this.parked.length;
  }

  park(brokerId: string, m: StoredMessage, shares: string[]): void {
    if (this.parked.length >= MAX_PARKED) {
      this.dropped++;
      if (this.dropped % 1000 === 1) this.d.log.error({ dropped: this.dropped }, 'mqtt: too many messages waiting for a dead broker; dropping');
      return;
    }
    this.parked.push({ brokerId, m, shares, sessions: this.d.routes.sessionsOf(brokerId) ?? [], since: Date.now() });
  }

  /** Retries what can be retried now; the rest stays parked. */
  async retry(): Promise<void> {
    if (this.parked.length === 0) return;
    const now = Date.now();
    const live = new Set(this.d.live());
    const keep: Parked[] = [];
    const batch = this.parked;
    this.parked = [];
    for (const p of batch) {
      if (now - p.since > MAX_AGE_MS) continue;
      try {
        if (live.has(p.brokerId)) await this.d.send(p.brokerId, p.m, p.shares);
        else if (this.d.routes.sessionsOf(p.brokerId) === undefined) await this.resend(p);
        else keep.push(p);
      } catch {
        keep.push(p);
      }
    }
    // Messages parked while this pass ran are kept too.
    this.parked = [...keep, ...this.parked];
  }

  private async resend(p: Parked): Promise<void> {
    const byHolder = new Map<string, string[]>();
    const here: string[] = [];
    for (const clientId of p.sessions) {
      if (this.d.holdsHere(clientId)) {
        here.push(clientId);
        continue;
      }
      const holder = this.d.routes.holders(clientId)[0];
      if (!holder) continue;
      let list = byHolder.get(holder);
      if (!list) byHolder.set(holder, (list = []));
      list.push(clientId);
    }
    if (here.length > 0) await this.d.deliverHere(p.m, here);
    for (const [id, clients] of byHolder) await this.d.send(id, p.m, [], clients);
  }
}
