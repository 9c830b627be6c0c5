/**
 * PUBLISH from a client [MQTT 3.3]: topic alias resolution, validation, authorization, routing, then PUBACK (QoS 1)
 * or PUBREC (QoS 2, exactly once: the identifier is remembered until PUBREL [MQTT-4.3.3-10]). This is the hot
 * path: no closures or promises unless authorization or persistence is asynchronous.
 */
import type mqtt from 'mqtt-packet';
import type { MqttMessage, QoS } from '../../../runtime/core/mqtt/message.js';
import { puback, pubcomp, pubrec } from '../acks.js';
import type { MqttConnection } from '../connection.js';
import { logDenial } from '../denials.js';
import { MqttProtocolError, protocolError } from '../errors.js';
import { RC } from '../reason-codes.js';
import { payloadFormatProblem, topicNameProblem } from '../validate.js';
import { messageProperties } from './connect.js';

export function handlePublish(conn: MqttConnection, packet: mqtt.IPublishPacket): void | Promise<void> {
  const broker = conn.broker;
  const qos = packet.qos;
  const v = conn.version;
  // [MQTT-3.3.1-4 (v5)] above Maximum QoS: DISCONNECT 0x9B.
  if (qos > broker.limits.maxQos) throw new MqttProtocolError(RC.QOS_NOT_SUPPORTED, `QoS ${qos} is not supported`);
  let topic = packet.topic;
  const props = v === 5 ? packet.properties : undefined;
  if (props !== undefined && props.topicAlias !== undefined) topic = resolveAlias(conn, topic, props.topicAlias);
  if (topic !== conn.lastValidTopic) {
    const problem = topicNameProblem(topic);
    if (problem) throw new MqttProtocolError(RC.TOPIC_NAME_INVALID, problem); // [MQTT-3.3.2-2]
    conn.lastValidTopic = topic;
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const id = packet.messageId ?? 0;

  let expiresAt = 0;
  if (props !== undefined) {
    if (props.subscriptionIdentifier !== undefined) throw protocolError('PUBLISH from a client carries a Subscription Identifier'); // [MQTT-3.3.4-6]
    if (props.responseTopic !== undefined && topicNameProblem(props.responseTopic)) throw protocolError('Response Topic must be a topic name'); // [MQTT-3.3.2-14]
    const bad = payloadFormatProblem(props.payloadFormatIndicator, payload);
    if (bad) return refuse(conn, qos, id, RC.PAYLOAD_FORMAT_INVALID, bad);
    if (props.messageExpiryInterval) expiresAt = Date.now() + props.messageExpiryInterval * 1000;
  }

  if (qos === 2 && conn.session!.inboundQos2.has(id)) {
    conn.sendAck(pubrec(id, v)); // a resend of one we already routed: acknowledge, do not deliver twice
    return;
  }
  // Clients do not write broker statistics.
  if (topic.startsWith('$SYS')) return refuse(conn, qos, id, RC.NOT_AUTHORIZED, 'clients may not publish to $SYS topics');

  const msg: MqttMessage = {
    topic,
    payload,
    qos,
    retain: packet.retain,
    properties: props !== undefined ? messageProperties(props) : undefined,
    expiresAt,
    origin: conn.clientId,
    wire: undefined,
  };
  const allowed = broker.auth.authorizePublish(conn, topic);
  if (allowed === true) return route(conn, msg, id);
  if (allowed === false) return denied(conn, qos, id, topic);
  return allowed.then((ok) => (ok ? route(conn, msg, id) : denied(conn, qos, id, topic)));
}

function route(conn: MqttConnection, msg: MqttMessage, id: number): void | Promise<void> {
  const broker = conn.broker;
  broker.stats.messagesIn++;
  broker.currentPublisher = conn;
  let pending: void | Promise<void>;
  try {
    pending = broker.router.publish(msg);
  } finally {
    broker.currentPublisher = undefined;
  }
  const qos: QoS = msg.qos;
  if (qos === 1) conn.sendAck(puback(id, conn.version), pending || undefined);
  else if (qos === 2) {
    conn.session!.inboundQos2.add(id);
    conn.sendAck(pubrec(id, conn.version), pending || undefined);
  }
  // Bound topics: while the log lags behind, this publisher's next packets wait (and then its socket).
  const bridge = broker.ctx.bridge;
  if (bridge !== undefined && bridge.overloaded) return bridge.relieved();
}

/** Not routed: QoS 0 is dropped silently, QoS 1/2 get a v5 error reason code (3.1.1 has none, so a plain ack). */
function refuse(conn: MqttConnection, qos: QoS, id: number, reasonCode: number, reason: string): void {
  conn.broker.ctx.log.debug({ clientId: conn.clientId, reasonCode }, `mqtt: publish refused: ${reason}`);
  const r = conn.problemInfo ? reason : undefined;
  if (qos === 1) conn.sendAck(puback(id, conn.version, reasonCode, r));
  else if (qos === 2) conn.sendAck(pubrec(id, conn.version, reasonCode, r));
}

/** Refused by the ACLs: v5 PUBACK/PUBREC 0x87; 3.1.1 acknowledges and drops it (as Mosquitto does), and logs it. */
function denied(conn: MqttConnection, qos: QoS, id: number, topic: string): void {
  logDenial(conn, 'publish', topic);
  refuse(conn, qos, id, RC.NOT_AUTHORIZED, 'not authorized to publish');
}

/** [MQTT-3.3.2-7..12 (v5)] a topic alias sets or replaces a mapping, or stands for the topic when it is empty. */
function resolveAlias(conn: MqttConnection, topic: string, alias: number): string {
  const max = conn.broker.limits.topicAliasMaximum;
  if (alias === 0 || alias > max) throw new MqttProtocolError(RC.TOPIC_ALIAS_INVALID, `topic alias ${alias} outside 1..${max}`);
  const aliases = (conn.aliases ??= new Map());
  if (topic.length > 0) {
    aliases.set(alias, topic);
    return topic;
  }
  const known = aliases.get(alias);
  if (known === undefined) throw protocolError(`unknown topic alias ${alias}`);
  return known;
}

/** PUBREL from a client: the QoS 2 identifier is released [MQTT-4.3.3-12]. */
export function handlePubrel(conn: MqttConnection, packet: mqtt.IPubrelPacket): void {
  const id = packet.messageId!;
  const known = conn.session!.inboundQos2.delete(id);
  conn.sendAck(pubcomp(id, conn.version, known ? RC.SUCCESS : RC.PACKET_ID_NOT_FOUND));
}
