/** Name rules shared by the admin API, the Kafka front-end and cross-protocol bindings. */
import { RobustMQError } from '../errors.js';

const KAFKA_TOPIC = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME = 249;

/** Kafka's topic name rules (the admin API enforces them too, so every topic is reachable from Kafka). */
export function topicNameError(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'topic name must be a non-empty string';
  if (name.length > MAX_TOPIC_NAME) return `topic name longer than ${MAX_TOPIC_NAME} characters`;
  if (name === '.' || name === '..') return 'topic name cannot be "." or ".."';
  if (!KAFKA_TOPIC.test(name)) return 'topic name may contain only ASCII letters, digits, ".", "_" and "-"';
  return undefined;
}

export function assertTopicName(name: unknown): asserts name is string {
  const problem = topicNameError(name);
  if (problem) throw new RobustMQError('INVALID_ARGUMENT', problem);
}

/**
 * MQTT topic filter rules: non-empty UTF-8 without NUL, at most 65535 bytes, `#` only as the whole last level,
 * `+` only as a whole level. [MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.3-1] [MQTT-4.7.3-2]
 */
export function mqttFilterError(filter: string): string | undefined {
  if (filter.length === 0) return 'topic filter must not be empty';
  if (Buffer.byteLength(filter) > 65535) return 'topic filter longer than 65535 bytes';
  if (filter.includes('\u0000')) return 'topic filter contains NUL';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '"#" must be the whole last level of a filter';
    }
    if (level.includes('+') && level !== '+') return '"+" must occupy a whole level of a filter';
  }
  return undefined;
}

/** MQTT topic name rules for PUBLISH: non-empty, no wildcards, no NUL. [MQTT-4.7.3-1] [MQTT-3.3.2-2] */
export function mqttTopicError(topic: string): string | undefined {
  if (topic.length === 0) return 'topic name must not be empty';
  if (Buffer.byteLength(topic) > 65535) return 'topic name longer than 65535 bytes';
  if (topic.includes('\u0000')) return 'topic name contains NUL';
  if (topic.includes('+') || topic.includes('#')) return 'topic name must not contain wildcards';
  return undefined;
}

/** Does `topic` match `filter`? `$`-topics are not matched by a leading wildcard. [MQTT-4.7.2-1] */
export function mqttMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
