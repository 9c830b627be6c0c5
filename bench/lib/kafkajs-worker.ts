/**
 * kafkajs in its own process. argv[2] is JSON: { mode: 'produce' | 'consume', bootstrap, topic, ... }.
 * produce: on 'go' keeps `concurrency` sends of `batch` records in flight; 'snapshot' reports records acknowledged.
 * consume: on 'go' reads the topic from the beginning with a fresh group until `records` arrived, then reports
 * the time from the first to the last record ('done').
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';

interface Config {
  mode: 'produce' | 'consume';
  bootstrap: string;
  topic: string;
  acks: 1 | -1;
  size: number;
  batch: number;
  concurrency: number;
  records: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const kafka = new Kafka({ clientId: 'robustmq-bench', brokers: [config.bootstrap], logLevel: logLevel.NOTHING });
const send = (m: object): void => {
  process.send?.(m);
};
const fail = (err: unknown): void => {
  send({ type: 'error', message: `kafkajs ${config.mode}: ${(err as Error).message}` });
};

let acked = 0;
let running = false;

async function produce(): Promise<() => Promise<void>> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(config.size, 0x6b);
  const messages = Array.from({ length: config.batch }, () => ({ value }));
  const loop = async (): Promise<void> => {
    while (running) {
      await producer.send({ topic: config.topic, acks: config.acks, messages });
      acked += messages.length;
    }
  };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'go') {
      running = true;
      for (let i = 0; i < config.concurrency; i++) loop().catch(fail);
    } else if (m.type === 'snapshot') send({ type: 'snapshot', at: performance.now(), records: acked });
  });
  return async () => {
    running = false;
    await producer.disconnect();
  };
}

async function consume(): Promise<() => Promise<void>> {
  const consumer = kafka.consumer({ groupId: `bench-${process.pid}-${Date.now()}`, maxBytes: 50 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topic, fromBeginning: true });
  let count = 0;
  let bytes = 0;
  let firstAt = 0;
  let startedAt = 0;
  let reported = false;
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'go') return;
    startedAt = performance.now();
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          if (firstAt === 0) firstAt = performance.now();
          for (const msg of batch.messages) bytes += msg.value?.length ?? 0;
          count += batch.messages.length;
          if (count >= config.records && !reported) {
            reported = true;
            send({ type: 'done', records: count, bytes, firstAt, lastAt: performance.now(), startedAt });
          }
        },
      })
      .catch(fail);
  });
  return () => consumer.disconnect();
}

let stop: (() => Promise<void>) | undefined;
(config.mode === 'produce' ? produce() : consume()).then(
  (s) => {
    stop = s;
    send({ type: 'ready' });
  },
  (err: unknown) => {
    fail(err);
    process.exit(1);
  },
);

const shutdown = (): void => {
  setTimeout(() => process.exit(0), 3_000).unref();
  (stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
};
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') shutdown();
});
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
