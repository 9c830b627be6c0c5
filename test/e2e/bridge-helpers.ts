/** Shared by the bridge e2e tests: a node serving MQTT and Kafka, with the MQTT broker at hand, and kafkajs. */
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import type { NodeConfigInput } from '../../runtime/config/schema.js';
import { createKafkaServer } from '../../protocols/kafka/server.js';
import { createMqttServer, type MqttServer } from '../../protocols/mqtt/server.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/mqtt.js';

export interface BridgeNode extends TestNode {
  readonly mqtt: MqttServer;
  readonly mqttUrl: string;
}

export async function startBridgeNode(overrides: Partial<NodeConfigInput> = {}): Promise<BridgeNode> {
  let mqtt: MqttServer | undefined;
  const node = await startTestNode(
    { mqttSysIntervalMs: 0, storage: 'memory', ...overrides },
    { protocols: [createKafkaServer, (ctx) => (mqtt = createMqttServer(ctx))] },
  );
  return { ...node, mqtt: mqtt!, mqttUrl: `mqtt://127.0.0.1:${node.ports.mqtt}` };
}

/** Resolves once `count` subscriptions exist on the broker (a command-line subscriber has subscribed). */
export async function waitForSubscriptions(node: BridgeNode, count: number): Promise<void> {
  await waitFor(() => node.mqtt.broker.router.trie.size >= count, 10_000, `${count} MQTT subscription(s)`);
}

export function kafkaClient(node: TestNode): Kafka {
  return new Kafka({ clientId: 'bridge-test', brokers: [`127.0.0.1:${node.ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** Reads `topic` from the beginning with kafkajs until a message with key `key` arrived; returns that message. */
export async function consumeWithKafkajs(node: TestNode, topic: string, key: string): Promise<KafkaMessage> {
  const consumer: Consumer = kafkaClient(node).consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const got: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await waitFor(() => got.some((m) => m.key?.toString() === key), 15_000, `key ${key} on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return got.find((m) => m.key?.toString() === key)!;
}
