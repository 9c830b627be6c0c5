/** A protocol violation by one client: closes that connection with a reason code, never the broker. */
import { RobustMQError } from '../../runtime/errors.js';
import { RC } from './reason-codes.js';

export class MqttProtocolError extends RobustMQError {
  /**
   * @param reasonCode the v5 reason code sent in DISCONNECT (or CONNACK during CONNECT)
   * @param silent close without a DISCONNECT (e.g. before CONNECT, where none may be sent [MQTT-3.1.0-1])
   */
  constructor(
    readonly reasonCode: number,
    message: string,
    readonly silent = false,
  ) {
    super('INVALID_ARGUMENT', message);
    this.name = 'MqttProtocolError';
  }
}

export const malformed = (message: string): MqttProtocolError => new MqttProtocolError(RC.MALFORMED_PACKET, message);
export const protocolError = (message: string): MqttProtocolError => new MqttProtocolError(RC.PROTOCOL_ERROR, message);
