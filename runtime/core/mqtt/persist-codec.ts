/** JSON shapes of messages kept in the MetaStore (retained messages, queued session messages). */
import type { MessageProperties, MqttMessage, QoS } from './message.js';

export interface StoredProperties {
  pfi?: boolean;
  ct?: string;
  rt?: string;
  /** base64 */
  cd?: string;
  up?: Record<string, string | string[]>;
}

export interface StoredMessage {
  t: string;
  /** base64 payload */
  p: string;
  q: QoS;
  r: boolean;
  /** epoch ms, 0 = never */
  e: number;
  o?: string;
  pr?: StoredProperties;
}

export function encodeMessage(msg: MqttMessage): StoredMessage {
  const out: StoredMessage = { t: msg.topic, p: msg.payload.toString('base64'), q: msg.qos, r: msg.retain, e: msg.expiresAt };
  if (msg.origin !== undefined) out.o = msg.origin;
  const p = msg.properties;
  if (p) {
    const pr: StoredProperties = {};
    if (p.payloadFormatIndicator !== undefined) pr.pfi = p.payloadFormatIndicator;
    if (p.contentType !== undefined) pr.ct = p.contentType;
    if (p.responseTopic !== undefined) pr.rt = p.responseTopic;
    if (p.correlationData !== undefined) pr.cd = p.correlationData.toString('base64');
    if (p.userProperties !== undefined) pr.up = { ...p.userProperties };
    out.pr = pr;
  }
  return out;
}

export function decodeMessage(s: StoredMessage): MqttMessage {
  let properties: MessageProperties | undefined;
  if (s.pr) {
    properties = {};
    if (s.pr.pfi !== undefined) properties.payloadFormatIndicator = s.pr.pfi;
    if (s.pr.ct !== undefined) properties.contentType = s.pr.ct;
    if (s.pr.rt !== undefined) properties.responseTopic = s.pr.rt;
    if (s.pr.cd !== undefined) properties.correlationData = Buffer.from(s.pr.cd, 'base64');
    if (s.pr.up !== undefined) properties.userProperties = s.pr.up;
  }
  return {
    topic: s.t,
    payload: Buffer.from(s.p, 'base64'),
    qos: s.q,
    retain: s.r,
    properties,
    expiresAt: s.e,
    origin: s.o,
    wire: undefined,
  };
}
