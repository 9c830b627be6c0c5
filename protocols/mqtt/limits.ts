/** The MQTT front-end's limits, resolved once from the node configuration. */
import type { NodeConfig } from '../../runtime/config/schema.js';
import type { QoS } from '../../runtime/core/mqtt/message.js';

export interface MqttLimits {
  maxPacketSize: number;
  maxConnections: number;
  /** In-flight window towards clients that state no Receive Maximum. */
  defaultInflight: number;
  sessionQueueLimit: number;
  sysIntervalMs: number;
  /** 0 = use the client's keep alive. */
  serverKeepAlive: number;
  maxQos: QoS;
  topicAliasMaximum: number;
  /** Output bytes buffered for a client above which its publishers are paused until it catches up. */
  softOutputBytes: number;
  /** Output bytes buffered for a client above which QoS 0 messages to it are dropped. */
  hardOutputBytes: number;
}

export function resolveLimits(config: NodeConfig): MqttLimits {
  return {
    maxPacketSize: config.mqttMaxPacketSize,
    maxConnections: config.mqttMaxConnections,
    defaultInflight: config.mqttMaxInflight,
    sessionQueueLimit: config.mqttSessionQueueLimit,
    sysIntervalMs: config.mqttSysIntervalMs,
    serverKeepAlive: config.mqttServerKeepAlive,
    maxQos: config.mqttMaxQos as QoS,
    topicAliasMaximum: config.mqttTopicAliasMaximum,
    softOutputBytes: 1 << 20,
    hardOutputBytes: 64 << 20,
  };
}

/** Session Expiry Interval meaning "never" [MQTT-3.1.2-? v5 3.1.2.11.2]. */
export const NEVER_EXPIRES = 0xffffffff;

/**
 * A publisher paused for a slow subscriber is resumed after this long even if the subscriber never catches up, and
 * a subscriber that made no progress for this long counts as stuck: it no longer slows publishers down (its QoS 0
 * output is shed and its queue limit applies instead).
 */
export const MAX_PAUSE_MS = 1000;
