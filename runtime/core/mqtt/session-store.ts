/**
 * Persistent MQTT sessions in the MetaStore. Namespace 'sessions' (key = client identifier) keeps a session's
 * subscriptions and expiry; namespace 'mqtt-queue' (key = client id, NUL, zero-padded sequence) keeps the QoS 1/2
 * messages waiting for or in flight to it, so both survive the client going away and a broker restart; namespace
 * 'mqtt-cursors' (key = client id, NUL, topic) keeps, per bound topic, the offset of each partition the session
 * resumes reading from.
 */
import type { MetaStore } from '../../meta/store.js';
import type { QoS, SubscriptionOptions } from './message.js';
import type { StoredMessage } from './persist-codec.js';
import type { WriteBehind } from './write-behind.js';

export interface SessionRecord {
  clientId: string;
  protocolVersion: number;
  /** Seconds; 0xFFFFFFFF = never expires. */
  expiryInterval: number;
  /** Epoch ms of the last disconnect; absent while connected. */
  disconnectedAt?: number;
  subscriptions: Array<{ filter: string } & SubscriptionOptions>;
  /** QoS 2 packet identifiers received but not yet released (exactly-once across a restart). */
  inboundQos2?: number[];
}

export interface QueuedRecord {
  seq: number;
  msg: StoredMessage;
  qos: QoS;
  retain: boolean;
  subIds?: number[];
  shareKey?: string;
  /** Packet identifier once sent; resent with DUP (or as PUBREL) on resume. */
  packetId?: number;
  /** 1 = PUBLISH sent, awaiting PUBACK/PUBREC; 2 = PUBREL sent, awaiting PUBCOMP. */
  state?: 1 | 2;
}

/** Where an offline session resumes in one bound topic's log. */
export interface CursorRecord {
  clientId: string;
  topic: string;
  /** Next offset to deliver, per partition. */
  offsets: number[];
}

export interface LoadedSession {
  record: SessionRecord;
  queue: QueuedRecord[];
  /** Bound topic → next offset per partition. */
  cursors: Map<string, number[]>;
}

const cursorKey = (clientId: string, topic: string): string => `${clientId}\u0000${topic}`;
const queueKey = (clientId: string, seq: number): string => `${clientId}\u0000${String(seq).padStart(16, '0')}`;

export class SessionStore {
  constructor(
    private readonly meta: MetaStore,
    private readonly writer: WriteBehind,
  ) {}

  async loadAll(): Promise<LoadedSession[]> {
    const sessions = new Map<string, LoadedSession>();
    for (const e of await this.meta.list<SessionRecord>('sessions')) {
      sessions.set(e.value.clientId, { record: e.value, queue: [], cursors: new Map() });
    }
    for (const e of await this.meta.list<CursorRecord>('mqtt-cursors')) {
      const s = sessions.get(e.value.clientId);
      if (s) s.cursors.set(e.value.topic, e.value.offsets);
      else void this.writer.delete('mqtt-cursors', e.key).catch(() => {});
    }
    for (const e of await this.meta.list<QueuedRecord>('mqtt-queue')) {
      const clientId = e.key.slice(0, e.key.indexOf('\u0000'));
      const s = sessions.get(clientId);
      if (s) s.queue.push(e.value);
      else void this.writer.delete('mqtt-queue', e.key).catch(() => {});
    }
    return [...sessions.values()];
  }

  /** One client's stored offset cursors (bound topic → next offset per partition), e.g. when it connects elsewhere. */
  async loadCursors(clientId: string): Promise<Map<string, number[]>> {
    const cursors = new Map<string, number[]>();
    for (const e of await this.meta.list<CursorRecord>('mqtt-cursors', `${clientId}\u0000`)) {
      if (e.value.clientId === clientId) cursors.set(e.value.topic, e.value.offsets);
    }
    return cursors;
  }

  saveSession(record: SessionRecord): Promise<void> {
    return this.writer.put('sessions', record.clientId, record);
  }

  /**
   * Removes a session and every message queued for it up to sequence `upToSeq`; later entries belong to a new
   * session under the same client identifier that started while this ran.
   */
  async deleteSession(clientId: string, upToSeq = Number.MAX_SAFE_INTEGER): Promise<void> {
    const done = [this.writer.delete('sessions', clientId)];
    for (const e of await this.meta.list('mqtt-queue', `${clientId}\u0000`)) {
      if (Number(e.key.slice(clientId.length + 1)) <= upToSeq) done.push(this.writer.delete('mqtt-queue', e.key));
    }
    for (const e of await this.meta.list('mqtt-cursors', `${clientId}\u0000`)) done.push(this.writer.delete('mqtt-cursors', e.key));
    await Promise.all(done);
  }

  putCursor(clientId: string, topic: string, offsets: number[]): Promise<void> {
    const record: CursorRecord = { clientId, topic, offsets: [...offsets] };
    return this.writer.put('mqtt-cursors', cursorKey(clientId, topic), record);
  }

  deleteCursor(clientId: string, topic: string): Promise<void> {
    return this.writer.delete('mqtt-cursors', cursorKey(clientId, topic));
  }

  putQueued(clientId: string, record: QueuedRecord): Promise<void> {
    return this.writer.put('mqtt-queue', queueKey(clientId, record.seq), record);
  }

  deleteQueued(clientId: string, seq: number): Promise<void> {
    return this.writer.delete('mqtt-queue', queueKey(clientId, seq));
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
