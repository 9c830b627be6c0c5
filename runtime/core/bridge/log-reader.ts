/**
 * Reading a bound topic's log back as MQTT messages, for persistent sessions that resume from their offset cursor
 * instead of from a per-session copy of every message.
 */
import { isRobustMQError } from '../../errors.js';
import { batchHeaders, compressionOf, Compression, decodeRecords, isControl } from '../../storage/record-batch.js';
import type { MqttMessage } from '../mqtt/message.js';
import type { TopicManager } from '../topics.js';
import { recordsOf } from './decompress.js';
import { fromMqtt, toMessage } from './mapping.js';

export interface LogMessage {
  readonly offset: number;
  readonly msg: MqttMessage;
}

export interface LogRead {
  readonly messages: LogMessage[];
  /** Where the next read starts. */
  readonly next: number;
  /** Records below `from` that retention had already removed (they could not be delivered). */
  readonly lost: number;
}

export interface ReadScope {
  readonly bindings: readonly string[];
  /** The Kafka topic MQTT subscribers receive this MQTT topic's publishes from. */
  primaryOf(mqttTopic: string): string | undefined;
}

/**
 * Records of `topic`/`partition` from `from` up to (not including) `until`, at most about `maxBytes` of batches,
 * as MQTT messages. MQTT publishes stored in several bound topics come back only from their primary topic.
 */
export async function readMessages(
  topics: TopicManager,
  topic: string,
  partition: number,
  from: number,
  until: number,
  maxBytes: number,
  scope: ReadScope,
): Promise<LogRead> {
  const log = topics.partition(topic, partition);
  let start = Math.max(from, log.logStartOffset());
  const lost = start - from;
  if (start >= until) return { messages: [], next: Math.max(start, from), lost };
  let read;
  try {
    read = await log.read(start, maxBytes);
  } catch (err) {
    // Retention moved the log start past us between the check and the read: start over from there.
    if (!isRobustMQError(err, 'OFFSET_OUT_OF_RANGE')) throw err;
    start = log.logStartOffset();
    return { messages: [], next: start, lost: start - from };
  }
  const messages: LogMessage[] = [];
  let next = start;
  for (const chunk of read.chunks) {
    for (const h of batchHeaders(chunk)) {
      const end = h.baseOffset + h.lastOffsetDelta + 1;
      if (h.baseOffset >= until) return { messages, next, lost };
      if (!isControl(h.attributes)) {
        const body = compressionOf(h.attributes) === Compression.None ? undefined : await recordsOf(chunk, h);
        for (const r of decodeRecords(chunk.subarray(h.position, h.position + h.size), { ...h, position: 0 }, body)) {
          if (r.offset < start || r.offset >= until) continue;
          const msg = toMessage(r, topic, scope.bindings);
          if (fromMqtt(r) && scope.primaryOf(msg.topic) !== undefined && scope.primaryOf(msg.topic) !== topic) continue;
          messages.push({ offset: r.offset, msg: copied(msg) });
        }
      }
      next = Math.min(end, until);
    }
  }
  return { messages, next, lost };
}

/** Messages wait in session queues: they must not keep the engine's read buffers alive. */
function copied(msg: MqttMessage): MqttMessage {
  return { ...msg, payload: Buffer.from(msg.payload) };
}
