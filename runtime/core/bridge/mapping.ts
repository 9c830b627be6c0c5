/**
 * How an MQTT message and a Kafka record stand for each other on a bound topic:
 *
 * | MQTT                         | Kafka record                                         |
 * |------------------------------|------------------------------------------------------|
 * | topic name                   | key (UTF-8)                                          |
 * | payload                      | value                                                |
 * | receive time                 | timestamp (CreateTime)                               |
 * | QoS, RETAIN                  | headers `mqtt.qos` (`0`/`1`/`2`), `mqtt.retain` (`true`/`false`) |
 * | Content Type                 | header `mqtt.content-type`                           |
 * | Response Topic               | header `mqtt.response-topic`                         |
 * | Correlation Data             | header `mqtt.correlation-data` (raw bytes)           |
 * | Payload Format Indicator     | header `mqtt.payload-format` (`0`/`1`)               |
 * | User Properties              | one header per name/value pair, in order             |
 *
 * Back from Kafka: the MQTT topic is the key when it is a valid topic name matching one of the topic's bindings,
 * else the Kafka topic's name; the reserved headers above set QoS (default 1, Kafka's at-least-once), RETAIN and
 * the properties; every other header becomes a User Property (a null value becomes "").
 */
import { isUtf8 } from 'node:buffer';
import type { MessageProperties, MqttMessage, QoS } from '../mqtt/message.js';
import type { DecodedRecord, RecordHeader, RecordInput } from '../../storage/record-batch.js';
import { mqttMatches, mqttTopicError } from '../topic-names.js';

export const HEADER = {
  qos: 'mqtt.qos',
  retain: 'mqtt.retain',
  contentType: 'mqtt.content-type',
  responseTopic: 'mqtt.response-topic',
  correlationData: 'mqtt.correlation-data',
  payloadFormat: 'mqtt.payload-format',
} as const;

/** QoS 1 without a `mqtt.qos` header: a Kafka record is stored, so it is delivered at least once. */
export const DEFAULT_QOS: QoS = 1;

const QOS_VALUES = [Buffer.from('0'), Buffer.from('1'), Buffer.from('2')];
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
/** The two headers every MQTT record has, one shared array per QoS and RETAIN (no allocation per message). */
const BASE_HEADERS: RecordHeader[][] = [0, 1, 2, 3, 4, 5].map((i) => [
  { key: HEADER.qos, value: QOS_VALUES[i >> 1] },
  { key: HEADER.retain, value: i & 1 ? TRUE : FALSE },
]);

export function recordHeaders(msg: MqttMessage): RecordHeader[] {
  const base = BASE_HEADERS[(msg.qos << 1) | (msg.retain ? 1 : 0)];
  const p = msg.properties;
  if (p === undefined) return base;
  const out = [...base];
  if (p.contentType !== undefined) out.push({ key: HEADER.contentType, value: Buffer.from(p.contentType) });
  if (p.responseTopic !== undefined) out.push({ key: HEADER.responseTopic, value: Buffer.from(p.responseTopic) });
  if (p.correlationData !== undefined) out.push({ key: HEADER.correlationData, value: p.correlationData });
  if (p.payloadFormatIndicator !== undefined) out.push({ key: HEADER.payloadFormat, value: QOS_VALUES[p.payloadFormatIndicator ? 1 : 0] });
  for (const [name, value] of Object.entries(p.userProperties ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) out.push({ key: name, value: Buffer.from(v) });
  }
  return out;
}

/** The record an MQTT PUBLISH becomes. */
export function toRecord(msg: MqttMessage, key: Buffer, timestamp: number): RecordInput {
  return { key, value: msg.payload, headers: recordHeaders(msg), timestamp };
}

/** The MQTT topic a record is delivered on. [MQTT-4.7.3-1] */
export function mqttTopicOf(record: Pick<DecodedRecord, 'key'>, kafkaTopic: string, bindings: readonly string[]): string {
  const key = record.key;
  if (key !== null && key.length > 0 && key.length <= 65535 && isUtf8(key)) {
    const name = key.toString('utf8');
    if (mqttTopicError(name) === undefined && bindings.some((f) => mqttMatches(f, name))) return name;
  }
  return kafkaTopic;
}

/** The MQTT message a stored record is delivered as. */
export function toMessage(record: DecodedRecord, kafkaTopic: string, bindings: readonly string[]): MqttMessage {
  let qos: QoS = DEFAULT_QOS;
  let retain = false;
  let props: MessageProperties | undefined;
  for (const h of record.headers) {
    const v = h.value;
    switch (h.key) {
      case HEADER.qos: {
        const n = v?.length === 1 ? v[0] - 48 : -1;
        if (n >= 0 && n <= 2) qos = n as QoS;
        continue;
      }
      case HEADER.retain:
        retain = v !== null && v.equals(TRUE);
        continue;
      case HEADER.contentType:
        if (v !== null) (props ??= {}).contentType = v.toString('utf8');
        continue;
      case HEADER.responseTopic: {
        const topic = v?.toString('utf8');
        if (topic !== undefined && mqttTopicError(topic) === undefined) (props ??= {}).responseTopic = topic;
        continue;
      }
      case HEADER.correlationData:
        if (v !== null) (props ??= {}).correlationData = v;
        continue;
      case HEADER.payloadFormat:
        if (v !== null) (props ??= {}).payloadFormatIndicator = v.length === 1 && v[0] === 49;
        continue;
    }
    const user = ((props ??= {}).userProperties ??= {});
    const value = v === null ? '' : v.toString('utf8');
    const prev = user[h.key];
    user[h.key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  // [MQTT-3.3.2-4] a payload that is not UTF-8 cannot keep Payload Format Indicator 1.
  if (props?.payloadFormatIndicator && record.value !== null && !isUtf8(record.value)) props.payloadFormatIndicator = false;
  return {
    topic: mqttTopicOf(record, kafkaTopic, bindings),
    payload: record.value ?? Buffer.alloc(0),
    qos,
    retain,
    properties: props,
    expiresAt: 0,
    origin: undefined,
    wire: undefined,
  };
}

/** Whether a stored record came from an MQTT PUBLISH (it carries the `mqtt.qos` header the bridge writes). */
export function fromMqtt(record: DecodedRecord): boolean {
  return record.headers.length > 0 && record.headers[0].key === HEADER.qos;
}
