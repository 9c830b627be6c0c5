/** The protocol front-ends a node starts, in order. Each factory gets the node's core services. */
import { createKafkaServer } from '../protocols/kafka/server.js';
import { createMqttServer } from '../protocols/mqtt/server.js';
import type { BrokerContext, ProtocolServer } from './context.js';

export type ProtocolFactory = (ctx: BrokerContext) => ProtocolServer;

export const PROTOCOLS: ProtocolFactory[] = [createKafkaServer, createMqttServer];
