/**
 * The packet dispatcher: checks the connection state first, then hands the packet to its handler. A handler
 * returns a promise only when it must finish before the next packet of the connection is processed.
 */
import type mqtt from 'mqtt-packet';
import { PINGRESP, pubrel } from '../acks.js';
import type { MqttConnection } from '../connection.js';
import { MqttProtocolError, protocolError } from '../errors.js';
import { NEVER_EXPIRES } from '../limits.js';
import { RC } from '../reason-codes.js';
import { handleConnect } from './connect.js';
import { handlePublish, handlePubrel } from './publish.js';
import { handleSubscribe, handleUnsubscribe } from './subscribe.js';

export function dispatch(conn: MqttConnection, packet: mqtt.Packet): void | Promise<void> {
  if (conn.state === 'awaiting-connect') {
    // [MQTT-3.1.0-1] the first packet must be CONNECT; nothing is sent back otherwise.
    if (packet.cmd !== 'connect') throw new MqttProtocolError(RC.PROTOCOL_ERROR, `${packet.cmd} before CONNECT`, true);
    return handleConnect(conn, packet);
  }
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(conn, packet);
    case 'puback':
      conn.session!.onPuback(packet.messageId!);
      return;
    case 'pubrec':
      return onPubrec(conn, packet);
    case 'pubrel':
      return handlePubrel(conn, packet);
    case 'pubcomp':
      conn.session!.onPubcomp(packet.messageId!);
      return;
    case 'subscribe':
      return handleSubscribe(conn, packet);
    case 'unsubscribe':
      return handleUnsubscribe(conn, packet);
    case 'pingreq':
      conn.sendRaw(PINGRESP); // [MQTT-3.12.4-1]
      return;
    case 'disconnect':
      return handleDisconnect(conn, packet);
    case 'connect':
      throw protocolError('second CONNECT on a connection'); // [MQTT-3.1.0-2]
    case 'auth':
      throw protocolError('AUTH without an authentication method'); // [MQTT-4.12.0-1]
    default:
      throw protocolError(`${packet.cmd} is not sent by clients`);
  }
}

function onPubrec(conn: MqttConnection, packet: mqtt.IPubrecPacket): void {
  const id = packet.messageId!;
  const known = conn.session!.onPubrec(id, packet.reasonCode ?? 0);
  if (known && (packet.reasonCode ?? 0) >= 0x80) return;
  // [MQTT-4.3.3-? (v5)] PUBREL for an unknown identifier carries 0x92.
  conn.sendRaw(pubrel(id, conn.version, known ? RC.SUCCESS : RC.PACKET_ID_NOT_FOUND));
}

/** DISCONNECT [MQTT 3.14]: the will is discarded unless v5 reason 0x04 asks for it [MQTT-3.14.4-3]. */
function handleDisconnect(conn: MqttConnection, packet: mqtt.IDisconnectPacket): void {
  const session = conn.session!;
  if (conn.version === 5) {
    const expiry = packet.properties?.sessionExpiryInterval;
    if (expiry !== undefined) {
      if (conn.connectExpiry === 0 && expiry !== 0) {
        throw protocolError('Session Expiry Interval set on DISCONNECT after 0 on CONNECT'); // [MQTT-3.14.2-2]
      }
      session.expiryInterval = expiry === NEVER_EXPIRES ? NEVER_EXPIRES : expiry;
    }
  }
  conn.disconnected = packet.reasonCode !== RC.DISCONNECT_WITH_WILL;
  conn.close();
}
