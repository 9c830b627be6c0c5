/**
 * CONNECT [MQTT 3.1], as an ordered list of steps: validate the packet, check capacity, authenticate, take over or
 * start the session, answer CONNACK, then resume the session's unacknowledged and queued messages.
 */
import type mqtt from 'mqtt-packet';
import { TooManyFailedLogins } from '../../../runtime/core/auth/login-guard.js';
import type { ConnectVerdict } from '../../../runtime/core/mqtt/auth.js';
import { createMessage, type MessageProperties } from '../../../runtime/core/mqtt/message.js';
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError } from '../errors.js';
import { NEVER_EXPIRES } from '../limits.js';
import { RC } from '../reason-codes.js';
import { hasReplacementChar, payloadFormatProblem, topicNameProblem } from '../validate.js';

const refuse = (code: number, message: string): MqttProtocolError => new MqttProtocolError(code, message);

/** MQTT 5 CONNACK 0x8A Banned [MQTT 3.2.2.2]; 3.1.1 has no such code and gets 5 Not authorized. */
const BANNED = 0x8a;

export function handleConnect(conn: MqttConnection, packet: mqtt.IConnectPacket): void | Promise<void> {
  conn.state = 'connecting';
  conn.version = (packet.protocolVersion ?? 4) as 3 | 4 | 5;
  validate(conn, packet);
  checkCapacity(conn);
  const client = {
    clientId: conn.clientId,
    username: packet.username,
    remoteAddress: conn.remoteAddress,
    protocolVersion: conn.version,
    certificateUser: conn.certificateUser,
  };
  const verdict = conn.broker.auth.authenticate(client, packet.username, packet.password);
  if (!isPromise(verdict)) return authenticated(conn, packet, verdict);
  return verdict.then(
    (v) => (conn.state === 'connecting' ? authenticated(conn, packet, v) : undefined),
    (err: unknown) => {
      if (!(err instanceof TooManyFailedLogins)) throw err;
      if (conn.state === 'connecting') banned(conn, err);
    },
  );
}

/**
 * Step 3 refused by the login guard: the address failed too often lately, nothing was checked. Answered without
 * the per-connection log line of other refusals: the guard logs once per address and window, a flood would not.
 */
function banned(conn: MqttConnection, err: TooManyFailedLogins): void {
  conn.broker.refuseConnect(conn, conn.version === 5 ? BANNED : RC.NOT_AUTHORIZED, err.message);
}

/**
 * Step 3: the authentication verdict, then the will's topic, which must be one the client may publish to (as
 * Mosquitto checks it); a refusal is answered by CONNACK with its code, then the close [MQTT-3.2.2-5].
 */
function authenticated(conn: MqttConnection, packet: mqtt.IConnectPacket, verdict: ConnectVerdict): void | Promise<void> {
  if (verdict === false || verdict === 'bad-credentials') throw refuse(RC.BAD_USERNAME_OR_PASSWORD, 'authentication failed');
  if (verdict === 'not-authorized') throw refuse(RC.NOT_AUTHORIZED, 'not authorized: credentials required');
  if (typeof verdict === 'object') conn.username = verdict.user; // e.g. a verified client certificate's CN: the ACLs' %u
  const will = conn.will;
  if (will === undefined) return admit(conn, packet);
  const allowed = conn.broker.auth.authorizePublish(conn, will.msg.topic);
  if (allowed === true) return admit(conn, packet);
  const refused = (): MqttProtocolError => refuse(RC.NOT_AUTHORIZED, 'not authorized to publish the will topic');
  if (allowed === false) throw refused();
  return allowed.then((ok) => {
    if (conn.state !== 'connecting') return;
    if (!ok) throw refused();
    return admit(conn, packet);
  });
}

/** On a cluster broker the session is first fetched from wherever it lives (cluster-sessions.ts). */
function admit(conn: MqttConnection, packet: mqtt.IConnectPacket): void | Promise<void> {
  const prepare = conn.broker.prepareSession;
  if (prepare === undefined) return accept(conn, packet);
  return prepare(conn).then(() => (conn.state === 'connecting' ? accept(conn, packet) : undefined));
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as Promise<T> | undefined)?.then === 'function';

/** Step 1: protocol name/level, client identifier, properties and will [MQTT-3.1.2] [MQTT-3.1.3]. */
function validate(conn: MqttConnection, packet: mqtt.IConnectPacket): void {
  const v = conn.version;
  const expectedName = v === 3 ? 'MQIsdp' : 'MQTT';
  if (packet.protocolId !== expectedName) {
    throw refuse(RC.UNSUPPORTED_PROTOCOL_VERSION, `protocol name ${packet.protocolId} does not match level ${v}`); // [MQTT-3.1.2-1]
  }
  const props = packet.properties;
  if (props?.authenticationMethod !== undefined) {
    throw refuse(RC.BAD_AUTHENTICATION_METHOD, 'enhanced authentication is not supported');
  }
  if (props?.receiveMaximum === 0) throw refuse(RC.PROTOCOL_ERROR, 'Receive Maximum must not be 0');
  if (props?.maximumPacketSize === 0) throw refuse(RC.PROTOCOL_ERROR, 'Maximum Packet Size must not be 0');

  let clientId = packet.clientId;
  if (hasReplacementChar(clientId)) throw refuse(RC.CLIENT_ID_NOT_VALID, 'client identifier is not well-formed UTF-8');
  if (clientId.length === 0) {
    // 3.1 requires an identifier; 3.1.1 allows an empty one only with a clean session [MQTT-3.1.3-7] [MQTT-3.1.3-8];
    // 5 assigns one [MQTT-3.1.3-6].
    if (v === 3 || (v === 4 && !packet.clean)) throw refuse(RC.CLIENT_ID_NOT_VALID, 'empty client identifier');
    clientId = conn.broker.assignClientId();
    conn.assignedClientId = v === 5;
  }
  conn.clientId = clientId;
  conn.username = packet.username;

  const will = packet.will;
  if (will) {
    const problem = topicNameProblem(will.topic);
    if (problem) throw refuse(RC.TOPIC_NAME_INVALID, `will topic: ${problem}`);
    if ((will.qos ?? 0) > conn.broker.limits.maxQos) throw refuse(RC.QOS_NOT_SUPPORTED, 'will QoS not supported');
    const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
    const wp = will.properties;
    const bad = payloadFormatProblem(wp?.payloadFormatIndicator, payload);
    if (bad) throw refuse(RC.PAYLOAD_FORMAT_INVALID, `will ${bad}`);
    const properties = wp ? messageProperties(wp) : undefined;
    const expiry = wp?.messageExpiryInterval;
    conn.will = {
      msg: createMessage(will.topic, payload, will.qos ?? 0, will.retain ?? false, {
        properties,
        expiresAt: expiry ? Date.now() + expiry * 1000 : 0,
        origin: clientId,
      }),
      delay: wp?.willDelayInterval ?? 0,
    };
  }
}

/** Step 2: the configured maximum of concurrent connections. */
function checkCapacity(conn: MqttConnection): void {
  const b = conn.broker;
  if (b.connections.size > b.limits.maxConnections) {
    throw refuse(conn.version === 5 ? RC.QUOTA_EXCEEDED : RC.SERVER_UNAVAILABLE, 'maximum connections reached');
  }
}

/** Steps 4-6: session, CONNACK, resume. */
function accept(conn: MqttConnection, packet: mqtt.IConnectPacket): void {
  const b = conn.broker;
  const v = conn.version;
  const props = packet.properties;
  const clean = packet.clean ?? true;
  // 3.1.1: clean session 0 keeps the session until the client comes back with clean session 1.
  const expiry = v === 5 ? (props?.sessionExpiryInterval ?? 0) : clean ? 0 : NEVER_EXPIRES;
  conn.connectExpiry = expiry;
  if (v === 5) {
    conn.sendWindow = Math.min(props?.receiveMaximum ?? b.limits.defaultInflight, 65_535);
    conn.clientMaxPacket = props?.maximumPacketSize ?? 0;
    conn.problemInfo = props?.requestProblemInformation !== false;
  }
  const keepalive = v === 5 && b.limits.serverKeepAlive > 0 ? b.limits.serverKeepAlive : (packet.keepalive ?? 0);
  conn.keepaliveTimeoutMs = keepalive * 1500; // [MQTT-3.1.2-24]

  const { session, present } = b.openSession(conn, clean, expiry);
  conn.state = 'connected';
  conn.info.clientId = conn.clientId;
  conn.info.username = conn.username;
  conn.info.details = { protocolVersion: v, keepalive, cleanStart: clean, transport: conn.transport.kind };

  if (v === 5) {
    const properties: NonNullable<mqtt.IConnackPacket['properties']> = {
      maximumPacketSize: b.limits.maxPacketSize,
      topicAliasMaximum: b.limits.topicAliasMaximum,
    };
    if (b.limits.maxQos < 2) properties.maximumQoS = b.limits.maxQos as 0 | 1;
    if (conn.assignedClientId) properties.assignedClientIdentifier = conn.clientId;
    if (b.limits.serverKeepAlive > 0) properties.serverKeepAlive = b.limits.serverKeepAlive;
    if (props?.requestResponseInformation) properties.responseInformation = `response/${conn.clientId}`;
    conn.send({ cmd: 'connack', reasonCode: RC.SUCCESS, sessionPresent: present, properties });
  } else {
    // [MQTT-3.2.2-1] session present is 0 for a clean session.
    conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: present });
  }
  session.resume(conn);
  b.logSessions?.resume(session, conn); // then what bound logs got while it was away
  b.ctx.log.debug({ clientId: conn.clientId, remote: conn.remoteAddress, protocolVersion: v, sessionPresent: present }, 'mqtt: client connected');
}

export function messageProperties(p: {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}): MessageProperties | undefined {
  let out: MessageProperties | undefined;
  if (p.payloadFormatIndicator !== undefined) (out ??= {}).payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.contentType !== undefined) (out ??= {}).contentType = p.contentType;
  if (p.responseTopic !== undefined) (out ??= {}).responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) (out ??= {}).correlationData = p.correlationData;
  if (p.userProperties !== undefined) (out ??= {}).userProperties = p.userProperties;
  return out;
}
