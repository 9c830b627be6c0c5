/**
 * Produce (key 0). Versions 0-9 are advertised because librdkafka only enables gzip/snappy when the range includes
 * v2, but only RecordBatch v2 (magic 2, what every client sends with Produce v3+) is stored: older message formats
 * get UNSUPPORTED_FOR_MESSAGE_FORMAT. Partitions are appended concurrently; each gets its own error. acks=0 gets no
 * response at all; acks must be -1, 0 or 1 (one replica: -1 and 1 mean the same here).
 */
import { mayOnTopic } from '../authz.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/produce.js';
import { ProducerStates } from '../producers/sequences.js';
import { lookupTopic } from './auto-create.js';
import { producePartition, type PartitionOutcome } from './produce-partition.js';
import { defineApi, type KafkaRequestContext } from './types.js';

const VALID_ACKS = new Set([-1, 0, 1]);

export function producerStates(ctx: KafkaRequestContext): ProducerStates {
  return ctx.kafka.shared('producer-states', () => new ProducerStates(ctx.broker.topics));
}

function toResponse(index: number, o: PartitionOutcome): Response['responses'][number]['partitionResponses'][number] {
  return {
    index,
    errorCode: o.errorCode,
    baseOffset: o.baseOffset,
    logAppendTimeMs: -1,
    logStartOffset: o.logStartOffset,
    recordErrors: [],
    errorMessage: o.errorCode === ErrorCode.NONE ? null : o.errorMessage,
  };
}

function everyPartition(req: Request, code: ErrorCode, message: string): Response {
  return {
    responses: req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) =>
        toResponse(p.index, { errorCode: code, errorMessage: message, baseOffset: -1, logStartOffset: -1, records: 0 }),
      ),
    })),
    throttleTimeMs: 0,
  };
}

export const produceApi = defineApi({
  apiKey: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 9,
  flexibleVersion: 9,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (req.transactionalId !== null) {
      const res = everyPartition(req, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported by this broker');
      return req.acks === 0 ? null : res;
    }
    if (!VALID_ACKS.has(req.acks)) return everyPartition(req, ErrorCode.INVALID_REQUIRED_ACKS, `acks=${req.acks} is not -1, 0 or 1`);
    const producers = producerStates(ctx);
    const responses = await Promise.all(
      req.topicData.map(async (t) => {
        const found = mayOnTopic(ctx, 'produce', t.name)
          ? await lookupTopic(ctx, t.name, true)
          : { error: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        const partitionResponses = await Promise.all(
          t.partitionData.map(async (p) => {
            if ('error' in found) {
              const errorMessage = `cannot produce to topic ${t.name}`;
              return toResponse(p.index, { errorCode: found.error, errorMessage, baseOffset: -1, logStartOffset: -1, records: 0 });
            }
            const outcome = await producePartition(ctx, producers, t.name, p.index, p.records as Buffer | null);
            if (outcome.records > 0) ctx.broker.metrics.messagesIn.inc({ protocol: 'kafka' }, outcome.records);
            return toResponse(p.index, outcome);
          }),
        );
        return { name: t.name, partitionResponses };
      }),
    );
    return req.acks === 0 ? null : { responses, throttleTimeMs: 0 };
  },
  errorResponse: (req, code) => (req.acks === 0 ? null : everyPartition(req, code, 'produce failed')),
});
