/** A RobustMQ node for the Kafka suite (memory storage) and the admin calls the suite needs. */
import { startRobustMQ, type RobustMQHandle } from './mqtt-brokers.js';
import { waitForPort } from './proc.js';

export const KAFKA_UNAVAILABLE = 'Kafka listener not available';

export interface KafkaNode {
  readonly handle: RobustMQHandle;
  readonly bootstrap: string;
  createTopic(name: string, partitions?: number): Promise<void>;
}

export async function startKafkaNode(): Promise<KafkaNode> {
  const handle = await startRobustMQ({ storage: 'memory' });
  const kafkaPort = handle.ports.kafka;
  try {
    if (!kafkaPort) throw new Error(`${KAFKA_UNAVAILABLE}: the node reported no kafka port (ports: ${JSON.stringify(handle.ports)})`);
    await waitForPort(kafkaPort, 5_000).catch((err: Error) => {
      throw new Error(`${KAFKA_UNAVAILABLE}: ${err.message}`);
    });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  const admin = `http://127.0.0.1:${handle.ports.admin}`;
  return {
    handle,
    bootstrap: `127.0.0.1:${kafkaPort}`,
    async createTopic(name, partitions = 1) {
      const res = await fetch(`${admin}/api/v1/topics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, partitions, storage: 'memory' }),
      });
      if (res.status !== 201) throw new Error(`creating topic ${name}: HTTP ${res.status} ${await res.text()}`);
    },
  };
}
