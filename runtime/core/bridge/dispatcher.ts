/**
 * Log → MQTT for one partition of a bound topic: every append to it passes here in offset order, and its records
 * go to MQTT subscribers in that order. MQTT publishes come back as the very message objects that were published
 * (no decoding); records produced by Kafka clients are decoded (decompressed first when needed). `next` is the
 * first offset not yet handed to MQTT: a persistent session that goes offline keeps it as its cursor and later
 * reads from there, so nothing is delivered twice or skipped.
 */
import type { Logger } from '../../logger.js';
import {
  Compression,
  batchHeaders,
  compressionOf,
  decodeRecords,
  isControl,
  type BatchHeader,
  type DecodedRecord,
} from '../../storage/record-batch.js';
import type { TopicManager } from '../topics.js';
import type { MqttMessage } from '../mqtt/message.js';
import type { AppendedMessages } from './appender.js';
import { recordsOf } from './decompress.js';
import { fromMqtt, toMessage } from './mapping.js';

/** Where log records go: the MQTT front-end's router. */
export interface LogSink {
  /**
   * Routes one message of a bound topic's log to MQTT subscribers (and the retained store). Returns a promise
   * when some delivery had to be persisted first; the publisher's acknowledgement waits for it.
   */
  deliver(msg: MqttMessage, topic: string, partition: number): void | Promise<void>;
}

/** What a dispatcher needs from the bridge. */
export interface DispatchContext {
  readonly topics: TopicManager;
  readonly log: Logger;
  sink(): LogSink | undefined;
  bindingsOf(topic: string): readonly string[];
  /** The Kafka topic MQTT subscribers receive this MQTT topic's publishes from. */
  primaryOf(mqttTopic: string): string | undefined;
}

interface Item {
  batches: Buffer;
  base: number;
  /** Messages published over MQTT (delivered as they are), or undefined for stored records to decode. */
  published: AppendedMessages | undefined;
  /** An MQTT append not made by this bridge: advance past it, deliver nothing. */
  skip: boolean;
}

/** Bytes read at a time when records must be fetched from the log. */
const READ_BYTES = 1024 * 1024;

export class PartitionDispatcher {
  private readonly queue: Item[] = [];
  private busy = false;
  /** MQTT messages handed to subscribers when published, whose append has not come back yet; they follow `next`. */
  ahead = 0;
  /** Appends by other writers (Kafka producers) started and not yet come back. */
  foreign = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** First offset not yet handed to MQTT, not counting `ahead`. */
    public next: number,
    private readonly ctx: DispatchContext,
  ) {}

  /** The offset after everything handed to MQTT so far (what a session going offline resumes from). */
  get position(): number {
    return this.next + this.ahead;
  }

  /**
   * Whether an MQTT message may be handed to subscribers before its append: nothing appended, or being appended
   * by another writer, still waits to be delivered, so it cannot overtake a record that comes before it in the log.
   */
  get clear(): boolean {
    return !this.busy && this.queue.length === 0 && this.foreign === 0;
  }

  /** Counts a message handed to MQTT ahead of its append. */
  handedAhead(): void {
    this.ahead++;
  }

  /** Handed-ahead messages that are no longer ahead of the log: stored (and passed), or refused by the engine. */
  settleAhead(count: number): void {
    this.ahead = Math.max(0, this.ahead - count);
  }

  push(batches: Buffer, base: number, published: AppendedMessages | undefined, skip: boolean): void {
    if (!this.busy && this.queue.length === 0 && base === this.next && this.trySync(batches, published, skip)) return;
    this.queue.push({ batches, base, published, skip });
    if (!this.busy) void this.drain();
  }

  /** Handles an append in place when nothing is waiting and no decompression is needed (the common case). */
  private trySync(batches: Buffer, published: AppendedMessages | undefined, skip: boolean): boolean {
    if (published !== undefined) {
      this.deliverPublished(published);
      return true;
    }
    const headers = [...batchHeaders(batches)];
    if (headers.some((h) => compressionOf(h.attributes) !== Compression.None)) return false;
    for (const h of headers) this.deliverBatch(batches, h, undefined, skip, false);
    return true;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const item = this.queue[0];
        if (item.base > this.next) await this.fillGap(item.base);
        if (item.published !== undefined && item.base === this.next) this.deliverPublished(item.published);
        else {
          const published = item.published !== undefined;
          // Handled messages reached MQTT when they were published: only the position moves past them.
          const handled = item.published?.handled === true;
          if (handled) this.settleAhead(item.published!.count);
          for (const h of batchHeaders(item.batches)) await this.deliverStored(item.batches, h, item.skip || handled, published);
          // Whatever happened to the records, their publishers must not wait forever.
          item.published?.done.resolve();
          item.published?.release();
        }
        this.queue.shift();
      }
    } catch (err) {
      this.ctx.log.error({ err, topic: this.topic, partition: this.partition }, 'bridge: dispatching to MQTT failed');
      for (const item of this.queue.splice(0)) item.published?.done.reject(err);
    } finally {
      this.busy = false;
    }
  }

  private deliverPublished(published: AppendedMessages): void {
    const { count, done } = published;
    this.next += count;
    if (published.handled) {
      this.settleAhead(count);
      done.resolve();
      published.release();
      return;
    }
    const sink = this.ctx.sink();
    let waits: Promise<void>[] | undefined;
    try {
      for (let i = 0; sink !== undefined && i < count; i++) {
        if (!published.deliver(i)) continue;
        const r = sink.deliver(published.message(i), this.topic, this.partition);
        if (r) (waits ??= []).push(r);
      }
    } catch (err) {
      // Stored but not all delivered: the publishers hear of it rather than wait for ever.
      this.ctx.log.error({ err, topic: this.topic, partition: this.partition }, 'bridge: delivering to MQTT failed');
      done.reject(err);
      return;
    }
    if (waits === undefined) done.resolve();
    else Promise.all(waits).then(() => done.resolve(), (err: unknown) => done.reject(err));
  }

  /** Records appended without an event (or missed): read them from the log. */
  private async fillGap(until: number): Promise<void> {
    const log = this.ctx.topics.partition(this.topic, this.partition);
    while (this.next < until) {
      let read;
      try {
        read = await log.read(this.next, READ_BYTES);
      } catch (err) {
        this.ctx.log.warn({ err, topic: this.topic, partition: this.partition, from: this.next }, 'bridge: records skipped');
        this.next = until;
        return;
      }
      const before = this.next;
      for (const chunk of read.chunks) {
        for (const h of batchHeaders(chunk)) if (h.baseOffset < until) await this.deliverStored(chunk, h, false, true);
      }
      if (this.next === before) this.next = until;
    }
  }

  private async deliverStored(buf: Buffer, h: BatchHeader, skip: boolean, fromLog: boolean): Promise<void> {
    let records: Buffer | undefined;
    if (!skip && !isControl(h.attributes) && compressionOf(h.attributes) !== Compression.None && this.ctx.sink()) {
      try {
        records = await recordsOf(buf, h);
      } catch (err) {
        this.ctx.log.warn({ err, topic: this.topic, partition: this.partition, offset: h.baseOffset }, 'bridge: batch not delivered to MQTT');
        skip = true;
      }
    }
    this.deliverBatch(buf, h, records, skip, fromLog);
  }

  /** Hands the records of one batch at or after `next` to MQTT, then moves `next` past the batch. */
  private deliverBatch(buf: Buffer, h: BatchHeader, records: Buffer | undefined, skip: boolean, fromLog: boolean): void {
    const end = h.baseOffset + h.lastOffsetDelta + 1;
    const sink = this.ctx.sink();
    if (end <= this.next) return;
    if (!skip && sink !== undefined && !isControl(h.attributes)) {
      // A private copy: the batch may be a view into a large request buffer that must not stay alive in queues.
      const own = Buffer.from(buf.subarray(h.position, h.position + h.size));
      let decoded: DecodedRecord[] = [];
      try {
        decoded = decodeRecords(own, { ...h, position: 0 }, records);
      } catch (err) {
        this.ctx.log.warn({ err, topic: this.topic, partition: this.partition, offset: h.baseOffset }, 'bridge: batch not delivered to MQTT');
      }
      const bindings = this.ctx.bindingsOf(this.topic);
      for (const r of decoded) {
        if (r.offset < this.next) continue;
        const msg = toMessage(r, this.topic, bindings);
        // Read back from the log, an MQTT publish is delivered only by its primary topic (once, not per binding).
        if (fromLog && fromMqtt(r) && this.ctx.primaryOf(msg.topic) !== this.topic) continue;
        const pending = sink.deliver(msg, this.topic, this.partition);
        if (pending) pending.catch((err: unknown) => this.ctx.log.warn({ err }, 'bridge: delivery not persisted'));
      }
    }
    this.next = end;
  }
}
