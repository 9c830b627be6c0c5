/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP and PINGRESP bytes. These are the packets of the QoS 1/2 hot path; with reason code
 * Success and no properties they are the same four bytes in every protocol version (a v5 receiver reads a
 * Remaining Length of 2 as Success [MQTT-3.4.2-1]), so they are built directly instead of through generate().
 * Any other reason code goes through mqtt-packet.
 */
import mqtt from 'mqtt-packet';

const TYPE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
type AckCmd = keyof typeof TYPE;

export function ack(cmd: AckCmd, packetId: number, version: number, reasonCode = 0, reasonString?: string): Buffer {
  if (reasonCode === 0 || version !== 5) {
    const b = Buffer.allocUnsafe(4);
    b[0] = TYPE[cmd];
    b[1] = 2;
    b[2] = packetId >> 8;
    b[3] = packetId & 0xff;
    return b;
  }
  const properties = reasonString ? { reasonString } : undefined;
  return mqtt.generate({ cmd, messageId: packetId, reasonCode, properties } as mqtt.Packet, { protocolVersion: 5 });
}

export const puback = (id: number, version: number, rc = 0, reason?: string): Buffer => ack('puback', id, version, rc, reason);
export const pubrec = (id: number, version: number, rc = 0, reason?: string): Buffer => ack('pubrec', id, version, rc, reason);
export const pubrel = (id: number, version: number, rc = 0): Buffer => ack('pubrel', id, version, rc);
export const pubcomp = (id: number, version: number, rc = 0): Buffer => ack('pubcomp', id, version, rc);

export const PINGRESP = Buffer.from([0xd0, 0x00]);
