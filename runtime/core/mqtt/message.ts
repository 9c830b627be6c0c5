/**
 * The protocol-neutral shapes the MQTT router moves around: a published message, the options of one subscription,
 * and the subscriber (a session) that messages are handed to. Nothing here knows about sockets or packet bytes.
 */

export type QoS = 0 | 1 | 2;

/** MQTT 5 message properties that travel with a message from publisher to subscribers. */
export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

export interface MqttMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  /** Forwarded MQTT 5 properties; undefined when there are none (the common case, kept cheap). */
  readonly properties: MessageProperties | undefined;
  /** Epoch milliseconds after which the message must not be delivered; 0 = never expires. */
  readonly expiresAt: number;
  /** Client identifier of the publisher, for No Local; undefined for broker-made messages ($SYS, bridges). */
  readonly origin: string | undefined;
  /**
   * Wire encodings cached by the protocol front-end so one PUBLISH is encoded once and the same buffer is written
   * to every subscriber that needs identical bytes. The core never reads it.
   */
  wire: (Buffer | undefined)[] | undefined;
}

export function createMessage(
  topic: string,
  payload: Buffer,
  qos: QoS,
  retain: boolean,
  options: { properties?: MessageProperties; expiresAt?: number; origin?: string } = {},
): MqttMessage {
  return {
    topic,
    payload,
    qos,
    retain,
    properties: options.properties,
    expiresAt: options.expiresAt ?? 0,
    origin: options.origin,
    wire: undefined,
  };
}

export function isExpired(msg: MqttMessage, now: number): boolean {
  return msg.expiresAt !== 0 && msg.expiresAt <= now;
}

/** Per-subscription options (MQTT 5 subscription options; 3.1.1 uses the defaults). */
export interface SubscriptionOptions {
  qos: QoS;
  /** [MQTT-3.8.3-3] do not send a client its own publications. */
  noLocal: boolean;
  /** [MQTT-3.3.1-12] keep the RETAIN flag on forwarded publications. */
  retainAsPublished: boolean;
  /** 0 = send retained on subscribe, 1 = only if the subscription is new, 2 = never. */
  retainHandling: 0 | 1 | 2;
  /** MQTT 5 Subscription Identifier, 1..268435455. */
  subscriptionId?: number;
}

/** What the router knows of a session: who it is and how to hand it a message. */
export interface Subscriber {
  readonly clientId: string;
  /** Whether a network connection is attached right now (shared subscriptions prefer online members). */
  readonly online: boolean;
  /**
   * Hands over one message with the QoS and RETAIN flag this subscriber gets. Returns a promise only when the
   * message had to be persisted (an offline persistent session) and the publisher's ack must wait for it.
   * `shareKey` names the shared subscription the message came through, so it can be redistributed.
   */
  deliver(
    msg: MqttMessage,
    qos: QoS,
    retain: boolean,
    subscriptionIds: number[] | undefined,
    shareKey: string | undefined,
  ): void | Promise<void>;
}
