/**
 * Cross-protocol topics: a Kafka topic bound to MQTT topic filters (`robustmq topic create sensors --mqtt
 * 'sensors/#'`). Protocol-neutral: the MQTT front-end attaches its router as the sink and hands over PUBLISHes to
 * bound topics (`claim`); the Kafka front-end needs nothing but TopicManager's 'appended' events.
 *
 * - MQTT → log: a PUBLISH to a bound topic becomes a record (key = MQTT topic name, partition by Kafka's murmur2
 *   key hash) appended in per-partition batches; the publisher's PUBACK/PUBREC waits for the append.
 * - log → MQTT: every append to a bound partition, whoever made it, reaches MQTT subscribers in offset order
 *   through that partition's dispatcher — MQTT publishes at QoS 1/2 right after their append, so what a subscriber
 *   sees of them is in the log and a session's cursor can say exactly where it stopped.
 * - QoS 0 publishes are handed to subscribers as they arrive, like on an unbound topic, while their append follows
 *   in the same event-loop turn: waiting for the append (an fsync) bought a QoS 0 publisher nothing and cost half
 *   the throughput. Only when nothing else waits to be delivered in that partition (no Kafka producer's append in
 *   flight, no QoS 1/2 batch, no record still being decoded), so offset order and delivery order stay the same; a
 *   producer's append first pushes such messages into the log ('appending'). The partition's position counts them
 *   (`ahead`), so a session that goes offline resumes right after them.
 */
import type { Logger } from '../../logger.js';
import type { TopicRecord } from '../../meta/records.js';
import type { MqttMessage } from '../mqtt/message.js';
import type { AppendEvent, AppendStart, TopicManager } from '../topics.js';
import { BridgeAppender, MQTT_ORIGIN, type AppendedMessages } from './appender.js';
import { BindingIndex, type BindingTarget } from './bindings.js';
import { PartitionDispatcher, type DispatchContext, type LogSink } from './dispatcher.js';
import { readMessages, type LogRead } from './log-reader.js';

export type { LogSink } from './dispatcher.js';
export type { LogMessage, LogRead } from './log-reader.js';

export class TopicBridge {
  readonly index = new BindingIndex();
  private readonly dispatchers = new Map<string, PartitionDispatcher[]>();
  private readonly appender: BridgeAppender;
  private readonly ctx: DispatchContext;
  private attached: LogSink | undefined;
  private started = false;

  constructor(
    private readonly topics: TopicManager,
    private readonly log: Logger,
  ) {
    this.appender = new BridgeAppender(
      topics,
      log,
      (topic, partition, batch) => this.deliverNow(topic, partition, batch),
      (topic, partition, count) => this.dispatchers.get(topic)?.[partition]?.settleAhead(count),
    );
    this.ctx = {
      topics,
      log,
      sink: () => this.attached,
      bindingsOf: (topic) => this.index.filtersOf(topic),
      primaryOf: (mqttTopic) => this.index.primaryOf(mqttTopic),
    };
  }

  /** Loads the bindings of every topic and follows topic changes and appends from now on. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const record of this.topics.list()) this.track(record);
    this.topics.on('created', this.track);
    this.topics.on('updated', this.track);
    this.topics.on('deleted', this.untrack);
    this.topics.on('appending', this.onAppending);
    this.topics.on('appended', this.onAppended);
    this.topics.on('appendFailed', this.onAppendFailed);
  }

  /** Waits for queued MQTT appends, then stops following the topics. */
  async close(): Promise<void> {
    await this.appender.drained();
    this.appender.close();
    this.topics.off('created', this.track);
    this.topics.off('updated', this.track);
    this.topics.off('deleted', this.untrack);
    this.topics.off('appending', this.onAppending);
    this.topics.off('appended', this.onAppended);
    this.topics.off('appendFailed', this.onAppendFailed);
    this.started = false;
  }

  /** The MQTT front-end attaches its router; records of bound topics go to it. Returns the detach function. */
  attach(sink: LogSink): () => void {
    this.attached = sink;
    return () => {
      if (this.attached === sink) this.attached = undefined;
    };
  }

  /** Resolves once every MQTT publish handed over so far is appended (and delivered). */
  drained(): Promise<void> {
    return this.appender.drained();
  }

  /**
   * Takes over an MQTT PUBLISH to a bound topic (received at `receivedAt`, epoch ms): it is appended, then
   * delivered to MQTT subscribers through the sink. Returns undefined when the topic is not bound (the router delivers it itself), else a promise that
   * settles once the message is durable by the topic's engine policy and delivered. `keepObject`: deliver this
   * very object afterwards (not one rebuilt from the record), for hooks that recognise messages by identity.
   */
  claim(msg: MqttMessage, receivedAt?: number, keepObject = false): Promise<void> | undefined {
    const sink = this.attached;
    if (sink === undefined) return undefined;
    const targets = this.index.targets(msg.topic);
    if (targets.length === 0) return undefined;
    const now = receivedAt ?? Date.now();
    // QoS 0 goes to subscribers now where nothing before it waits (see the top of this file). A cluster broker's
    // hooks recognise messages after their append (keepObject), so there everything waits for the append.
    const early = msg.qos === 0 && !keepObject;
    if (targets.length === 1) {
      const t = targets[0];
      if (early && this.canHandOver(t)) return this.handOver(t, msg, now, sink);
      return this.appender.add(t, msg, now, keepObject);
    }
    const all = Promise.all(
      targets.map((t) => (early && this.canHandOver(t) ? this.handOver(t, msg, now, sink) : this.appender.add(t, msg, now, keepObject))),
    ).then(() => undefined);
    all.catch(() => undefined);
    return all;
  }

  /** Whether a message for `target` may reach MQTT before its append without overtaking anything in the log. */
  private canHandOver(target: BindingTarget): boolean {
    const d = (target.dispatcher ??= this.dispatchers.get(target.topic)?.[target.partition]) as PartitionDispatcher | undefined;
    return d !== undefined && d.clear && this.appender.nothingPending(target);
  }

  /** Queues the message's record, then (from its primary topic only) delivers it now. */
  private handOver(target: BindingTarget, msg: MqttMessage, now: number, sink: LogSink): Promise<void> {
    const d = target.dispatcher as PartitionDispatcher;
    const queued = this.appender.addHandled(target, msg, now);
    if (queued === undefined) return this.appender.tooLarge(target, msg);
    d.handedAhead();
    if (target.primary) {
      const r = sink.deliver(msg, target.topic, target.partition);
      if (r) r.catch((err: unknown) => this.log.warn({ err }, 'bridge: delivery not persisted'));
    }
    return queued;
  }

  /** True while more MQTT publishes wait to be appended than the bridge buffers: publishers should wait. */
  get overloaded(): boolean {
    return this.appender.overloaded;
  }

  /** Resolves once the bridge buffers little enough again for publishers to go on. */
  relieved(): Promise<void> {
    return this.appender.relieved();
  }

  /** The first offset of each partition of `topic` not yet handed to MQTT; undefined when it is not bound. */
  positions(topic: string): number[] | undefined {
    return this.dispatchers.get(topic)?.map((d) => d.position);
  }

  position(topic: string, partition: number): number | undefined {
    return this.dispatchers.get(topic)?.[partition]?.position;
  }

  /** Bound topics whose records an MQTT subscription to one of `filters` could receive. */
  overlapping(filters: readonly string[]): string[] {
    return this.index.overlapping(filters);
  }

  /** Records of a bound topic's partition in [from, until) as MQTT messages (resuming sessions). */
  read(topic: string, partition: number, from: number, until: number, maxBytes: number): Promise<LogRead> {
    return readMessages(this.topics, topic, partition, from, until, maxBytes, {
      bindings: this.index.filtersOf(topic),
      primaryOf: (t) => this.index.primaryOf(t),
    });
  }

  private readonly track = (record: TopicRecord): void => {
    if (!this.index.set(record)) {
      this.dispatchers.delete(record.name);
      return;
    }
    const list = this.dispatchers.get(record.name) ?? [];
    for (let p = list.length; p < record.partitions; p++) {
      list.push(new PartitionDispatcher(record.name, p, this.topics.partition(record.name, p).highWatermark(), this.ctx));
    }
    this.dispatchers.set(record.name, list);
  };

  private readonly untrack = (name: string): void => {
    this.index.remove(name);
    this.dispatchers.delete(name);
  };

  /**
   * Another writer is about to append to a partition: MQTT messages already handed to subscribers go to the log
   * first, and until its records are delivered, later ones wait for their append.
   */
  private readonly onAppending = (ev: AppendStart): void => {
    if (this.appender.inFlight.has(ev.batches)) return;
    const d = this.dispatchers.get(ev.topic)?.[ev.partition];
    if (d === undefined) return;
    d.foreign++;
    this.appender.flushNow(ev.topic, ev.partition);
  };

  private readonly onAppendFailed = (ev: AppendStart): void => {
    if (this.appender.inFlight.has(ev.batches)) return;
    const d = this.dispatchers.get(ev.topic)?.[ev.partition];
    if (d !== undefined && d.foreign > 0) d.foreign--;
  };

  /** Runs inside TopicManager.append: whatever goes wrong here must not fail an append that already happened. */
  private readonly onAppended = (ev: AppendEvent): void => {
    try {
      this.dispatch(ev);
    } catch (err) {
      this.log.error({ err, topic: ev.topic, partition: ev.partition }, 'bridge: delivering an append to MQTT failed');
    }
  };

  private dispatch(ev: AppendEvent): void {
    const mine = ev.origin === MQTT_ORIGIN;
    const published = mine ? this.appender.inFlight.get(ev.batches) : undefined;
    if (published !== undefined) this.appender.inFlight.delete(ev.batches);
    const d = this.dispatchers.get(ev.topic)?.[ev.partition];
    if (d === undefined) {
      if (published !== undefined) this.deliverNow(ev.topic, ev.partition, published);
      return;
    }
    if (published === undefined && d.foreign > 0) d.foreign--;
    d.push(ev.batches, ev.result.baseOffset, published, mine && published === undefined);
  }

  /** Messages appended to a topic that is no longer bound (or without an event): delivered as they are. */
  private deliverNow(topic: string, partition: number, batch: AppendedMessages): void {
    const sink = this.attached;
    const waits: Promise<void>[] = [];
    for (let i = 0; sink !== undefined && i < batch.count; i++) {
      if (!batch.deliver(i)) continue;
      const r = sink.deliver(batch.message(i), topic, partition);
      if (r) waits.push(r);
    }
    batch.release();
    Promise.all(waits).then(() => batch.done.resolve(), (err: unknown) => batch.done.reject(err));
  }
}
