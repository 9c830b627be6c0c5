/**
 * InitProducerId (key 22): a fresh producer id with epoch 0 for idempotent producers — like Kafka, which hands
 * non-transactional producers a new id on every call. Transactions are not supported in this version, so a
 * transactional id is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED (clients report it at once, no retries).
 */
import { mayOnCluster } from '../authz.js';
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/init-producer-id.js';
import { allocateProducerId } from '../producers/ids.js';
import { defineApi } from './types.js';

export const initProducerIdApi = defineApi({
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  flexibleVersion: 2,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    if (req.transactionalId !== null) {
      ctx.log.warn({ transactionalId: req.transactionalId, client: ctx.clientId }, 'kafka transactions are not supported');
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    // Kafka's IDEMPOTENT_WRITE on the cluster.
    if (!mayOnCluster(ctx, 'produce')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    const producerId = await allocateProducerId(ctx.broker.meta);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
  errorResponse: (_req, code) => ({ throttleTimeMs: 0, errorCode: code, producerId: -1, producerEpoch: -1 }),
});
