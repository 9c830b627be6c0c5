/** kafkajs consumer-group members that record what they were assigned and what they consumed. */
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface Consumed {
  partition: number;
  offset: number;
  value: string;
}

export interface TrackedMember {
  readonly consumer: Consumer;
  readonly consumed: Consumed[];
  /** Partitions of the latest generation this member joined. */
  assignment: number[];
  memberId: string;
  joins: number;
  crashed?: Error;
}

export function kafkaClient(port: number, clientId: string): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${port}`],
    clientId,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/** Timings kept small for test speed; 6 s is the smallest session timeout a broker accepts by default. */
export const FAST_GROUP = { sessionTimeout: 6000, rebalanceTimeout: 3000, heartbeatInterval: 500, maxWaitTimeInMs: 100 };

export async function startMember(kafka: Kafka, groupId: string, topic: string): Promise<TrackedMember> {
  const consumer = kafka.consumer({ groupId, ...FAST_GROUP });
  const member: TrackedMember = { consumer, consumed: [], assignment: [], memberId: '', joins: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.assignment = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    member.memberId = e.payload.memberId;
    member.joins += 1;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    member.crashed = e.payload.error;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      member.consumed.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
    },
  });
  return member;
}

export function values(members: TrackedMember[]): string[] {
  return members.flatMap((m) => m.consumed.map((c) => c.value));
}
