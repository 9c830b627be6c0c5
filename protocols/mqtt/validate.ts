/** Checks on decoded strings and properties that mqtt-packet leaves to the receiver. */
import { isUtf8 } from 'node:buffer';
import { mqttFilterError, mqttTopicError } from '../../runtime/core/topic-names.js';

/**
 * mqtt-packet decodes UTF-8 with replacement, so an ill-formed string (overlong forms, encoded surrogates, stray
 * continuation bytes) arrives containing U+FFFD. We treat U+FFFD in a topic, filter or client identifier as
 * malformed [MQTT-1.5.4-1]; a client that sends a well-formed U+FFFD there is refused too, the price of not
 * re-scanning every string's raw bytes.
 */
export const hasReplacementChar = (s: string): boolean => s.includes('\uFFFD');

export function topicNameProblem(topic: string): string | undefined {
  const problem = mqttTopicError(topic);
  if (problem) return problem;
  if (hasReplacementChar(topic)) return 'topic name is not well-formed UTF-8';
  return undefined;
}

export function filterProblem(filter: string): string | undefined {
  const problem = mqttFilterError(filter);
  if (problem) return problem;
  if (hasReplacementChar(filter)) return 'topic filter is not well-formed UTF-8';
  return undefined;
}

/** Payload Format Indicator 1 promises UTF-8 [MQTT-3.3.2-4]. */
export function payloadFormatProblem(indicator: boolean | undefined, payload: Buffer): string | undefined {
  if (indicator && !isUtf8(payload)) return 'payload is not UTF-8 although Payload Format Indicator is 1';
  return undefined;
}
