/**
 * Outgoing PUBLISH encoding with a per-message cache: a message is encoded once per protocol family (3.1/3.1.1
 * share a layout, 5 adds properties) and RETAIN flag, and that same buffer goes to every QoS 0 subscriber. QoS 1/2
 * deliveries copy the cached template and patch the header byte and packet identifier, so no per-subscriber
 * encoding happens unless the bytes truly differ (Subscription Identifiers, a counting-down Message Expiry).
 */
import mqtt from 'mqtt-packet';
import type { MqttMessage, QoS } from '../../runtime/core/mqtt/message.js';

type PublishProps = NonNullable<mqtt.IPublishPacket['properties']>;

/** Cache slots in `msg.wire`: [v4 retain=0, v4 retain=1, v5 retain=0, v5 retain=1]. */
const slot = (v5: boolean, retain: boolean): number => (v5 ? 2 : 0) + (retain ? 1 : 0);

function generate(msg: MqttMessage, version: number, qos: QoS, retain: boolean, packetId: number, props?: PublishProps): Buffer {
  const packet: mqtt.IPublishPacket = {
    cmd: 'publish',
    topic: msg.topic,
    payload: msg.payload,
    qos,
    retain,
    dup: false,
    messageId: qos > 0 ? packetId : undefined,
  };
  if (version === 5 && props) packet.properties = props;
  return mqtt.generate(packet, { protocolVersion: version });
}

function v5Props(msg: MqttMessage, subscriptionIds: number[] | undefined, now: number): PublishProps | undefined {
  if (!msg.properties && !subscriptionIds && msg.expiresAt === 0) return undefined;
  const props: PublishProps = { ...msg.properties };
  // [MQTT-3.3.2-6] the forwarded expiry is what is left of it.
  if (msg.expiresAt !== 0) props.messageExpiryInterval = Math.max(0, Math.ceil((msg.expiresAt - now) / 1000));
  if (subscriptionIds) props.subscriptionIdentifier = subscriptionIds.length === 1 ? subscriptionIds[0] : subscriptionIds;
  return props;
}

/**
 * Encodes a PUBLISH for one subscriber. `packetId` is ignored for QoS 0. `dup` marks a redelivery [MQTT-3.3.1-1].
 */
export function encodePublish(
  msg: MqttMessage,
  version: number,
  qos: QoS,
  retain: boolean,
  packetId: number,
  dup: boolean,
  subscriptionIds: number[] | undefined,
): Buffer {
  const v5 = version === 5;
  if ((v5 && (subscriptionIds !== undefined || msg.expiresAt !== 0))) {
    const buf = generate(msg, version, qos, retain, packetId, v5Props(msg, subscriptionIds, Date.now()));
    if (dup) buf[0] |= 0x08;
    return buf;
  }
  const wire = (msg.wire ??= [undefined, undefined, undefined, undefined]);
  const i = slot(v5, retain);
  let template = wire[i];
  if (template === undefined) {
    template = msg.properties === undefined ? plainPublish(msg, v5, retain) : generate(msg, version, 0, retain, 0, v5Props(msg, undefined, 0));
    wire[i] = template;
  }
  if (qos === 0) return template;
  // Same bytes plus a two-byte packet identifier after the topic [MQTT-2.3.1-1].
  let lenBytes = 1;
  while (template[lenBytes] & 0x80) lenBytes++;
  const topicLen = template.readUInt16BE(1 + lenBytes);
  const idAt = 1 + lenBytes + 2 + topicLen;
  const remaining = template.length - 1 - lenBytes + 2;
  const lenSize = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lenSize + remaining);
  out[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
  let pos = 1;
  let r = remaining;
  do {
    let b = r % 128;
    r = Math.floor(r / 128);
    if (r > 0) b |= 0x80;
    out[pos++] = b;
  } while (r > 0);
  template.copy(out, pos, 1 + lenBytes, idAt);
  pos += idAt - 1 - lenBytes;
  out.writeUInt16BE(packetId, pos);
  template.copy(out, pos + 2, idAt);
  return out;
}

/**
 * A QoS 0 PUBLISH without properties, written directly: header, Remaining Length, topic, (v5: an empty property
 * list), payload. mqtt-packet's generate() builds an EventEmitter and several small buffers per call, which showed
 * up at several percent of broker CPU in the fan-in benchmark.
 */
function plainPublish(msg: MqttMessage, v5: boolean, retain: boolean): Buffer {
  const topicLen = Buffer.byteLength(msg.topic);
  const remaining = 2 + topicLen + (v5 ? 1 : 0) + msg.payload.length;
  const lenSize = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lenSize + remaining);
  out[0] = 0x30 | (retain ? 1 : 0);
  let pos = 1;
  let r = remaining;
  do {
    let b = r % 128;
    r = Math.floor(r / 128);
    if (r > 0) b |= 0x80;
    out[pos++] = b;
  } while (r > 0);
  out[pos++] = topicLen >> 8;
  out[pos++] = topicLen & 0xff;
  pos += out.write(msg.topic, pos, 'utf8');
  if (v5) out[pos++] = 0;
  msg.payload.copy(out, pos);
  return out;
}
