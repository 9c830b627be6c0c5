/**
 * MQTT → log on the hot path: publishes to the same bound partition gathered during one turn of the event loop
 * become one RecordBatch and one append. While a partition's append is in flight, later publishes wait and go in
 * the next batch (group commit), so a slow durability policy (fsync per append) makes batches bigger instead of
 * making publishers queue one append each, and records land in the log in the order they were published.
 * Publishers are held back while too much waits (QoS 0 publishers would otherwise outrun a slow engine).
 */
import type { Logger } from '../../logger.js';
import type { TopicManager } from '../topics.js';
import type { MqttMessage } from '../mqtt/message.js';
import { encodeMqttBatch, recordBytesOf } from './batch-encoder.js';
import type { BindingTarget } from './bindings.js';

/** The tag of appends made by the bridge (AppendEvent.origin), so they are not delivered to MQTT a second time. */
export const MQTT_ORIGIN = 'mqtt';

/** Bytes of the batch header and a little slack. */
const BATCH_OVERHEAD = 128;
/**
 * A partition with no append in flight appends as soon as this much is gathered, without waiting for the end of
 * the event-loop turn: publishes stay alive only briefly and die young. Waiting for the turn to end made a batch
 * of ~6,000 messages that outlived young-generation collections and doubled the binding's cost in
 * bench/mqtt-binding.ts (garbage collection went from 7% to 24% of broker CPU).
 */
const EAGER_BYTES = 64 * 1024;
/** Queued or appending bytes above which publishers are held back, and below which they go on. */
export const HIGH_WATER_BYTES = Number(process.env.HW ?? 16) * 1024 * 1024;
export const LOW_WATER_BYTES = HIGH_WATER_BYTES / 2;

/** The MQTT messages of one appended buffer, in record order, and the promise their publishers wait on. */
export interface AppendedMessages {
  readonly messages: MqttMessage[];
  /** Per message: whether MQTT subscribers get it from this topic (it is the message's primary binding). */
  readonly deliver: boolean[];
  readonly done: Deferred;
}

export class Deferred {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // QoS 0 publishers never look at the outcome; a failure is logged where it happens.
    this.promise.catch(() => undefined);
  }
}

/** Messages that become one batch. */
class Group {
  readonly messages: MqttMessage[] = [];
  readonly keys: Buffer[] = [];
  readonly timestamps: number[] = [];
  readonly deliver: boolean[] = [];
  readonly done = new Deferred();
  bytes = 0;
}

class PartitionQueue {
  /** Full groups waiting for their turn, oldest first. */
  readonly sealed: Group[] = [];
  open = new Group();
  appending = false;
  scheduled = false;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get empty(): boolean {
    return this.sealed.length === 0 && this.open.messages.length === 0;
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
  /** Buffers handed to TopicManager.append, until its 'appended' event claims them. */
  readonly inFlight = new Map<Buffer, AppendedMessages>();

  constructor(
    private readonly topics: TopicManager,
    private readonly log: Logger,
    /** Called for messages whose append succeeded without an 'appended' event taking them. */
    private readonly unclaimed: (topic: string, partition: number, batch: AppendedMessages) => void,
  ) {}

  /** Queues `msg` for `target`'s partition; the promise settles once its batch is appended and delivered. */
  add(target: BindingTarget, msg: MqttMessage, timestamp: number): Promise<void> {
    const size = recordBytesOf(msg, target.key);
    const max = this.topics.defaults.maxBatchBytes - BATCH_OVERHEAD;
    if (size > max) return Promise.reject(new Error(`message of ${size} bytes exceeds the largest record batch of ${target.topic}`));
    let list = this.queues.get(target.topic);
    if (list === undefined) this.queues.set(target.topic, (list = []));
    let q = list[target.partition];
    if (q === undefined) q = list[target.partition] = new PartitionQueue(target.topic, target.partition);
    let g = q.open;
    if (g.bytes + size > max) {
      q.sealed.push(g);
      g = q.open = new Group();
    }
    g.messages.push(msg);
    g.keys.push(target.key);
    g.timestamps.push(timestamp);
    g.deliver.push(target.primary);
    g.bytes += size;
    this.pendingBytes += size;
    if (this.pendingBytes > HIGH_WATER_BYTES) this.overloaded = true;
    const promise = g.done.promise;
    if (q.appending) return promise;
    if (g.bytes >= EAGER_BYTES) {
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

  /** Resolves once the backlog is back under the low-water mark. */
  relieved(): Promise<void> {
    if (!this.overloaded) return Promise.resolve();
    return (this.relief ??= new Deferred()).promise;
  }

  /** Resolves once nothing is queued or being appended (shutdown). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private isIdle(): boolean {
    for (const list of this.queues.values()) {
      for (const q of list) if (q !== undefined && (q.appending || !q.empty)) return false;
    }
    return true;
  }

  private flushDirty(): void {
    this.scheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const q of dirty) {
      q.scheduled = false;
      this.flush(q);
    }
  }

  private flush(q: PartitionQueue): void {
    if (q.appending || q.empty) return;
    let g = q.sealed.shift();
    if (g === undefined) {
      g = q.open;
      q.open = new Group();
    }
    q.appending = true;
    let buffer: Buffer;
    try {
      buffer = encodeMqttBatch(g.messages, g.keys, g.timestamps, 0, g.messages.length);
    } catch (err) {
      this.finish(q, g, err);
      return;
    }
    const group = g;
    const batch: AppendedMessages = { messages: g.messages, deliver: g.deliver, done: g.done };
    this.inFlight.set(buffer, batch);
    this.topics.append(q.topic, q.partition, buffer, MQTT_ORIGIN).then(
      () => {
        if (this.inFlight.delete(buffer)) this.unclaimed(q.topic, q.partition, batch);
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
    if (err !== undefined) {
      this.log.warn({ err, topic: q.topic, partition: q.partition }, 'bridge: appending MQTT messages failed');
      g.done.reject(err);
    }
    q.appending = false;
    if (!q.empty) this.flush(q);
    if (this.idle.size > 0 && this.isIdle()) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
  }
}
