/**
 * The messages of one batch on their way to the log: a Group holds the batch's bytes plus, per message, what a
 * record does not hold, and after the append hands the messages back to be delivered.
 */
import type { MessageProperties, MqttMessage, QoS } from '../mqtt/message.js';
import type { BufferPool } from '../../buffer-pool.js';
import { MqttBatchBuilder } from './batch-encoder.js';

/** The MQTT messages of one appended batch, in record order, and the promise their publishers wait on. */
export interface AppendedMessages {
  readonly count: number;
  /** Message `i` as MQTT subscribers get it: rebuilt from its stored record plus what a record does not hold. */
  message(i: number): MqttMessage;
  /** Whether MQTT subscribers get message `i` from this topic (it is the message's primary binding). */
  deliver(i: number): boolean;
  /**
   * True when every message was handed to MQTT when it was published, before its append (QoS 0, see appender.ts):
   * after the append only the partition's delivery position moves past them.
   */
  readonly handled: boolean;
  readonly done: Deferred;
  /** Called once nothing reads the appended batch any more (its buffer may be filled again). */
  release(): void;
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

/**
 * Messages that become one batch, kept as the batch's bytes plus, per message, what a record does not hold:
 * flat arrays of numbers and shared strings rather than one object per message, so waiting for an append
 * (an fsync) leaves little for the garbage collector to copy.
 */
export class Group implements AppendedMessages {
  readonly builder: MqttBatchBuilder;
  readonly done = new Deferred();
  private readonly topics: string[] = [];
  private readonly origins: Array<string | undefined> = [];
  private readonly props: Array<MessageProperties | undefined> = [];
  /** Per message: payload offset, payload length, flags (QoS | RETAIN << 2 | deliver << 3), expiry. */
  private readonly meta: number[] = [];
  /** The published objects themselves, only when asked to keep them. */
  private originals: MqttMessage[] | undefined;

  constructor(
    capacity: number,
    max: number,
    /** Messages handed to MQTT already: only their records are kept (AppendedMessages.handled). */
    readonly handled = false,
    /** Handled groups only (no message refers to their bytes): where the batch buffer comes from and goes back. */
    private pool?: BufferPool,
  ) {
    this.builder = new MqttBatchBuilder(capacity, max, handled ? pool : undefined);
    if (!handled) this.pool = undefined;
  }

  release(): void {
    this.pool?.put(this.builder.buffer);
    this.pool = undefined;
  }

  get count(): number {
    return this.builder.count;
  }

  get bytes(): number {
    return this.builder.bytes;
  }

  /** False when the message does not fit in this batch. */
  add(msg: MqttMessage, key: Buffer, timestamp: number, deliver: boolean, keepObject: boolean): boolean {
    const at = this.builder.add(msg, key, timestamp);
    if (at < 0) return false;
    if (this.handled) return true;
    if (keepObject) (this.originals ??= [])[this.builder.count - 1] = msg;
    this.topics.push(msg.topic);
    this.origins.push(msg.origin);
    this.props.push(msg.properties);
    this.meta.push(at, msg.payload.length, msg.qos | (msg.retain ? 4 : 0) | (deliver ? 8 : 0), msg.expiresAt);
    return true;
  }

  finish(): Buffer {
    return this.builder.finish();
  }

  message(i: number): MqttMessage {
    const kept = this.originals?.[i];
    if (kept !== undefined) return kept;
    const m = this.meta;
    const at = m[i * 4];
    const flags = m[i * 4 + 2];
    return {
      topic: this.topics[i],
      payload: this.builder.buffer.subarray(at, at + m[i * 4 + 1]),
      qos: (flags & 3) as QoS,
      retain: (flags & 4) !== 0,
      properties: this.props[i],
      expiresAt: m[i * 4 + 3],
      origin: this.origins[i],
      wire: undefined,
    };
  }

  deliver(i: number): boolean {
    return !this.handled && (this.meta[i * 4 + 2] & 8) !== 0;
  }
}

