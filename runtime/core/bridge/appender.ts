/**
 * MQTT → log on the hot path: publishes to the same bound partition become one RecordBatch and one append once
 * 64 KiB are gathered or the event-loop turn ends. While a partition has its maximum of appends in flight, later
 * publishes wait and go in the next batch (group commit), so a slow durability policy (fsync per append) makes
 * batches bigger instead of making publishers queue one append each. Engines keep appends in call order, so records
 * land in the log in the order they were published. Publishers are held back while too much waits (QoS 0
 * publishers would otherwise outrun a slow engine).
 *
 * A group is either *handled* (its messages were handed to MQTT subscribers when they were published: QoS 0 on a
 * partition with nothing else pending, see TopicBridge.claim) or not (delivered after the append). A partition
 * never holds a handled group behind one that is not, so handled messages always come first in the log too.
 */
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { TopicManager } from '../topics.js';
import type { MqttMessage } from '../mqtt/message.js';
import type { BindingTarget } from './bindings.js';
import { BufferPool } from '../../buffer-pool.js';
import { Deferred, Group, type AppendedMessages } from './group.js';

export { Deferred, type AppendedMessages } from './group.js';

/** The tag of appends made by the bridge (AppendEvent.origin), so they are not delivered to MQTT a second time. */
export const MQTT_ORIGIN = 'mqtt';

/** Bytes of the batch header and a little slack. */
const BATCH_OVERHEAD = 128;
/**
 * A partition with room for another append in flight appends as soon as this much is gathered, without waiting
 * for the end of the event-loop turn: waiting for the turn to end made batches of ~6,000 messages whose objects outlived
 * young-generation collections (bench/mqtt-binding.ts: garbage collection went from 7% to 24% of broker CPU).
 */
const EAGER_BYTES = 64 * 1024;
/**
 * Appends in flight per partition. Engines keep appends in call order, and the segment engine writes appends that
 * queue up while it syncs as one group (one writev, one fdatasync); with a single append in flight it never saw
 * more than one batch per sync.
 */
const MAX_IN_FLIGHT = 4;
/** Queued or appending bytes above which publishers are held back, and below which they go on. */
export const HIGH_WATER_BYTES = 32 * 1024 * 1024;
export const LOW_WATER_BYTES = 28 * 1024 * 1024;
/** Batch buffers kept for reuse at most (about what is queued or appending at the high-water mark). */
const POOL_BYTES = 32 * 1024 * 1024;
/** How often buffers the pool did not need are let go. */
const POOL_TRIM_MS = 10_000;

class PartitionQueue {
  /** Full groups waiting for their turn, oldest first. */
  readonly sealed: Group[] = [];
  open: Group | undefined;
  /** Appends in flight. */
  appending = 0;
  /** Groups not handled at publish time that are open, sealed or appending. */
  slow = 0;
  scheduled = false;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get empty(): boolean {
    return this.sealed.length === 0 && (this.open === undefined || this.open.count === 0);
  }
}

export class BridgeAppender {
  /** Per topic, per partition. */
  private readonly queues = new Map<string, PartitionQueue[]>();
  private dirty: PartitionQueue[] = [];
  private scheduled = false;
  private readonly idle = new Set<() => void>();
  private pendingBytes = 0;
  /** True from above HIGH_WATER_BYTES until back under LOW_WATER_BYTES: publishers should wait for `relieved`. */
  overloaded = false;
  private relief: Deferred | undefined;
  /** Batch buffers of handled groups, filled again once their append is delivered. */
  private readonly pool = new BufferPool(POOL_BYTES);
  /** Buffers handed to TopicManager.append, until its 'appended' event claims them. */
  readonly inFlight = new Map<Buffer, AppendedMessages>();

  private readonly trimTimer = setInterval(() => this.pool.trim(), POOL_TRIM_MS).unref();

  constructor(
    private readonly topics: TopicManager,
    private readonly log: Logger,
    /** Called for messages whose append succeeded without an 'appended' event taking them. */
    private readonly unclaimed: (topic: string, partition: number, batch: AppendedMessages) => void,
    /** Called when the append of a handled group failed: its messages reached MQTT but not the log. */
    private readonly lost: (topic: string, partition: number, count: number) => void,
  ) {}

  /** Whether nothing waits to be delivered after its append in `target`'s partition. */
  nothingPending(target: BindingTarget): boolean {
    const q = target.queue as PartitionQueue | undefined;
    return q === undefined || q.slow === 0;
  }

  /** Queues `msg` for `target`'s partition; the promise settles once its batch is appended and delivered. */
  add(target: BindingTarget, msg: MqttMessage, timestamp: number, keepObject = false): Promise<void> {
    return this.enqueue(target, msg, timestamp, keepObject, false) ?? this.tooLarge(target, msg);
  }

  /**
   * Queues the record of a message the caller hands to MQTT itself (only while `nothingPending`); the promise
   * settles once it is appended. Undefined when the message does not fit in a batch (`tooLarge`).
   */
  addHandled(target: BindingTarget, msg: MqttMessage, timestamp: number): Promise<void> | undefined {
    return this.enqueue(target, msg, timestamp, false, true);
  }

  private enqueue(target: BindingTarget, msg: MqttMessage, timestamp: number, keepObject: boolean, handled: boolean): Promise<void> | undefined {
    const max = this.topics.defaults.maxBatchBytes - BATCH_OVERHEAD;
    let q = target.queue as PartitionQueue | undefined;
    if (q === undefined) target.queue = q = this.queueOf(target);
    let g = q.open;
    if (g !== undefined && g.handled !== handled) {
      if (g.count > 0) q.sealed.push(g);
      g = undefined;
    }
    // With every append slot taken the group may grow to a whole batch; otherwise it goes out at EAGER_BYTES.
    if (g === undefined) g = q.open = new Group(q.appending >= MAX_IN_FLIGHT ? max : EAGER_BYTES + 4096, max, handled, this.pool);
    const before = g.bytes;
    if (!g.add(msg, target.key, timestamp, target.primary, keepObject)) {
      if (g.count === 0) return undefined;
      q.sealed.push(g);
      g = q.open = new Group(max, max, handled, this.pool);
      if (!g.add(msg, target.key, timestamp, target.primary, keepObject)) return undefined;
    }
    if (!handled && g.count === 1) q.slow++;
    this.pendingBytes += g.bytes - (g.count === 1 ? 0 : before);
    if (this.pendingBytes > HIGH_WATER_BYTES) this.overloaded = true;
    const promise = g.done.promise;
    if (q.appending >= MAX_IN_FLIGHT) return promise;
    if (g.bytes >= EAGER_BYTES || q.sealed.length > 0) {
      this.flush(q);
      return promise;
    }
    if (!q.scheduled) {
      q.scheduled = true;
      this.dirty.push(q);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushDirty());
      }
    }
    return promise;
  }

  /**
   * Starts the appends of everything queued for a partition now, whatever is in flight: another writer is about
   * to append to it, and what MQTT subscribers already have must come first in the log.
   */
  flushNow(topic: string, partition: number): void {
    const q = this.queues.get(topic)?.[partition];
    if (q === undefined) return;
    while (!q.empty) this.flush(q, true);
  }

  private queueOf(target: BindingTarget): PartitionQueue {
    let list = this.queues.get(target.topic);
    if (list === undefined) this.queues.set(target.topic, (list = []));
    return (list[target.partition] ??= new PartitionQueue(target.topic, target.partition));
  }

  /** The refusal of a message larger than a batch of `target`'s topic. */
  tooLarge(target: BindingTarget, msg: MqttMessage): Promise<void> {
    const err = new RobustMQError('RECORD_TOO_LARGE', `a message of ${msg.payload.length} bytes does not fit in a record batch of ${target.topic}`);
    this.log.warn({ topic: target.topic, mqttTopic: msg.topic, bytes: msg.payload.length }, 'bridge: message too large for its bound topic');
    const refused = Promise.reject(err);
    refused.catch(() => undefined); // a QoS 0 publisher never looks
    return refused;
  }

  /** Resolves once the backlog is back under the low-water mark. */
  relieved(): Promise<void> {
    if (!this.overloaded) return Promise.resolve();
    return (this.relief ??= new Deferred()).promise;
  }

  /** Stops the pool's trimming (the bridge is closing). */
  close(): void {
    clearInterval(this.trimTimer);
  }

  /** Resolves once nothing is queued or being appended (shutdown). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private isIdle(): boolean {
    for (const list of this.queues.values()) {
      for (const q of list) if (q !== undefined && (q.appending > 0 || !q.empty)) return false;
    }
    return true;
  }

  private flushDirty(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const q of dirty) {
      q.scheduled = false;
      this.flushAll(q);
    }
  }

  private flushAll(q: PartitionQueue): void {
    while (!q.empty && q.appending < MAX_IN_FLIGHT) this.flush(q);
  }

  private flush(q: PartitionQueue, force = false): void {
    if ((q.appending >= MAX_IN_FLIGHT && !force) || q.empty) return;
    let g = q.sealed.shift();
    if (g === undefined) {
      g = q.open!;
      q.open = undefined;
    }
    q.appending++;
    const group = g;
    let buffer: Buffer;
    try {
      buffer = g.finish();
    } catch (err) {
      this.finish(q, g, err);
      return;
    }
    this.inFlight.set(buffer, group);
    this.topics.append(q.topic, q.partition, buffer, MQTT_ORIGIN, true).then(
      () => {
        if (this.inFlight.delete(buffer)) this.unclaimed(q.topic, q.partition, group);
        this.finish(q, group, undefined);
      },
      (err: unknown) => {
        this.inFlight.delete(buffer);
        this.finish(q, group, err ?? new Error('append failed'));
      },
    );
  }

  private finish(q: PartitionQueue, g: Group, err: unknown): void {
    this.pendingBytes -= g.bytes;
    if (this.overloaded && this.pendingBytes < LOW_WATER_BYTES) {
      this.overloaded = false;
      this.relief?.resolve();
      this.relief = undefined;
    }
    if (!g.handled) q.slow--;
    if (err !== undefined) {
      this.log.warn({ err, topic: q.topic, partition: q.partition, messages: g.count }, 'bridge: appending MQTT messages failed');
      if (g.handled) this.lost(q.topic, q.partition, g.count);
      g.done.reject(err);
    }
    q.appending--;
    this.flushAll(q);
    if (this.idle.size > 0 && this.isIdle()) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }
}
