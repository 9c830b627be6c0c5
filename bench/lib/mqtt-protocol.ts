/** Messages between the MQTT benchmark controller and its load-generator / calibrator children (over IPC). */

export type ClientRole = 'pub' | 'sub' | 'idle';

/** `count` clients alike; `{i}` in `topic` becomes the client's index within the group. */
export interface ClientGroup {
  readonly role: ClientRole;
  readonly count: number;
  readonly clientIdPrefix: string;
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly payloadBytes: number;
  /** Unacknowledged QoS 1 publishes allowed per publisher. */
  readonly inflight: number;
}

export interface SetupCommand {
  readonly type: 'setup';
  readonly port: number;
  readonly groups: readonly ClientGroup[];
  /** Handshakes (connect, CONNECT, SUBSCRIBE) in progress at once. */
  readonly concurrency: number;
}

export type ControlCommand = SetupCommand | { type: 'go' } | { type: 'snapshot' } | { type: 'stop' };

export interface Counters {
  /** PUBLISH packets written by publishers. */
  published: number;
  /** PUBACKs received by publishers. */
  acked: number;
  /** PUBLISH packets received by subscribers. */
  delivered: number;
  /** Connections that failed or were closed by the peer after setup. */
  lost: number;
  /** PUBLISHes received whose topic is not under bench/ or whose payload is not the size sent. */
  malformed: number;
}

export interface ReadyMessage {
  readonly type: 'ready';
  readonly connected: number;
  readonly setupMs: number;
}

export interface SnapshotMessage extends Counters {
  readonly type: 'snapshot';
  /** performance.now() of the child when the counters were read. */
  readonly at: number;
}

export function emptyCounters(): Counters {
  return { published: 0, acked: 0, delivered: 0, lost: 0, malformed: 0 };
}

export function groupTopic(group: ClientGroup, index: number): string {
  return group.topic.replaceAll('{i}', String(index));
}
