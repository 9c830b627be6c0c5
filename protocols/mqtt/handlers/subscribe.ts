/**
 * SUBSCRIBE [MQTT 3.8] and UNSUBSCRIBE [MQTT 3.10]. A bad filter gets its own failure code in SUBACK (0x8F in v5,
 * 0x80 in 3.1.1) while the other filters of the packet still apply [MQTT-3.8.4-?]; retained messages follow the
 * SUBACK according to Retain Handling.
 */
import type mqtt from 'mqtt-packet';
import type { AuthResult } from '../../../runtime/core/mqtt/auth.js';
import type { QoS, SubscriptionOptions } from '../../../runtime/core/mqtt/message.js';
import { parseSharedFilter } from '../../../runtime/core/mqtt/shared.js';
import type { MqttConnection } from '../connection.js';
import { logDenial } from '../denials.js';
import { protocolError } from '../errors.js';
import { RC } from '../reason-codes.js';
import { filterProblem } from '../validate.js';

const MAX_SUBSCRIPTION_ID = 268_435_455;

interface Request {
  filter: string;
  options: SubscriptionOptions;
  /** Failure reason code decided during validation, if any. */
  failure?: number;
}

export function handleSubscribe(conn: MqttConnection, packet: mqtt.ISubscribePacket): void | Promise<void> {
  const v = conn.version;
  if (!packet.subscriptions?.length) throw protocolError('SUBSCRIBE without a topic filter'); // [MQTT-3.8.3-3]
  const subId = v === 5 ? packet.properties?.subscriptionIdentifier : undefined;
  if (subId !== undefined && (subId === 0 || subId > MAX_SUBSCRIPTION_ID)) {
    throw protocolError('Subscription Identifier must be 1..268435455'); // [MQTT-3.8.2-? (v5)]
  }
  const requests: Request[] = packet.subscriptions.map((s) => {
    const options: SubscriptionOptions = {
      qos: Math.min(s.qos, conn.broker.limits.maxQos) as QoS,
      noLocal: v === 5 ? Boolean(s.nl) : false,
      retainAsPublished: v === 5 ? Boolean(s.rap) : false,
      retainHandling: v === 5 ? ((s.rh ?? 0) as 0 | 1 | 2) : 0,
    };
    if (subId !== undefined) options.subscriptionId = subId;
    const shared = parseSharedFilter(s.topic);
    if (typeof shared === 'string') return { filter: s.topic, options, failure: RC.TOPIC_FILTER_INVALID };
    if (shared && options.noLocal) throw protocolError('No Local on a shared subscription'); // [MQTT-3.8.3-4]
    if (filterProblem(s.topic)) return { filter: s.topic, options, failure: RC.TOPIC_FILTER_INVALID };
    return { filter: s.topic, options };
  });
  const verdicts: AuthResult[] = requests.map((r) => (r.failure ? false : conn.broker.auth.authorizeSubscribe(conn, r.filter)));
  if (verdicts.every((x) => typeof x === 'boolean')) return apply(conn, packet, requests, verdicts as boolean[]);
  return Promise.all(verdicts).then((ok) => {
    if (conn.state === 'connected') apply(conn, packet, requests, ok);
  });
}

function apply(conn: MqttConnection, packet: mqtt.ISubscribePacket, requests: Request[], allowed: boolean[]): void {
  const broker = conn.broker;
  const session = conn.session!;
  const v = conn.version;
  const granted: number[] = [];
  const retainedFor: Request[] = [];
  const maxSubscriptions = broker.ctx.config.mqttMaxSubscriptions;
  requests.forEach((r, i) => {
    if (r.failure !== undefined || !allowed[i]) {
      if (r.failure === undefined) logDenial(conn, 'subscribe', r.filter);
      const code = r.failure ?? RC.NOT_AUTHORIZED;
      granted.push(v === 5 ? code : 0x80);
      return;
    }
    const isNew = !session.subscriptions.has(r.filter);
    if (isNew && maxSubscriptions > 0 && session.subscriptions.size >= maxSubscriptions) {
      granted.push(v === 5 ? RC.QUOTA_EXCEEDED : 0x80); // --mqtt-max-subscriptions; replacing one is still allowed
      return;
    }
    session.subscriptions.set(r.filter, r.options);
    broker.router.subscribe(session, r.filter, r.options);
    granted.push(r.options.qos);
    // [MQTT-3.3.1-9] retained on subscribe; v5 Retain Handling 1 = only for a new subscription, 2 = never.
    // Shared subscriptions get no retained messages [MQTT-4.8.2-? (v5)].
    const rh = r.options.retainHandling;
    if (!r.filter.startsWith('$share/') && (rh === 0 || (rh === 1 && isNew))) retainedFor.push(r);
  });
  conn.send({ cmd: 'suback', messageId: packet.messageId!, granted });
  if (session.persistent) void broker.store.saveSession(session.toRecord()).catch(() => {});
  for (const r of retainedFor) {
    const ids = r.options.subscriptionId ? [r.options.subscriptionId] : undefined;
    for (const msg of broker.retained.match(r.filter)) {
      void session.deliver(msg, (msg.qos < r.options.qos ? msg.qos : r.options.qos) as QoS, true, ids, undefined);
    }
  }
}

export function handleUnsubscribe(conn: MqttConnection, packet: mqtt.IUnsubscribePacket): void {
  if (!packet.unsubscriptions?.length) throw protocolError('UNSUBSCRIBE without a topic filter'); // [MQTT-3.10.3-2]
  const session = conn.session!;
  const broker = conn.broker;
  const codes = packet.unsubscriptions.map((filter) => {
    if (filterProblem(filter) && typeof parseSharedFilter(filter) !== 'object') return RC.TOPIC_FILTER_INVALID;
    if (!session.subscriptions.delete(filter)) return RC.NO_SUBSCRIPTION_EXISTED;
    broker.router.unsubscribe(session, filter);
    return RC.SUCCESS;
  });
  // 3.1.1 UNSUBACK carries no codes [MQTT-3.11.3 (v3.1.1)].
  conn.send({ cmd: 'unsuback', messageId: packet.messageId!, granted: conn.version === 5 ? codes : [] });
  if (session.persistent) void broker.store.saveSession(session.toRecord()).catch(() => {});
}
