/**
 * FindCoordinator (key 10): this node coordinates every group and transactional id, so it answers with itself — the
 * same endpoint Metadata advertises to this connection. v4 batches keys (KIP-699). librdkafka needs v0 served or
 * its consumer groups never find a coordinator. Group ACLs are checked by the group APIs themselves (JoinGroup,
 * OffsetFetch, ...), not here: kafkajs turns any FindCoordinator error into "coordinator not found" and would hide
 * the GROUP_AUTHORIZATION_FAILED that JoinGroup reports plainly to every client.
 */
import { ErrorCode } from '../../errors.js';
import { defineApi, type KafkaRequestContext } from '../types.js';
import { Request, Response } from './messages/find-coordinator.js';

/** Key types: 0 = consumer group, 1 = transactional id (KIP-98). */
const KNOWN_KEY_TYPES = new Set([0, 1]);

function locate(ctx: KafkaRequestContext, key: string, keyType: number): { errorCode: number; errorMessage: string | null } {
  if (!KNOWN_KEY_TYPES.has(keyType)) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown key type ${keyType}` };
  if (keyType === 0 && key === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: 'empty group id' };
  return { errorCode: ErrorCode.NONE, errorMessage: null };
}

export const findCoordinatorApi = defineApi({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 4,
  flexibleVersion: 3,
  request: Request,
  response: Response,
  handler: (req, ctx) => {
    const self = ctx.connection.endpoint;
    if (ctx.apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        nodeId: -1,
        host: '',
        port: -1,
        coordinators: req.coordinatorKeys.map((key) => {
          const { errorCode, errorMessage } = locate(ctx, key, req.keyType);
          const found = errorCode === ErrorCode.NONE;
          return { key, nodeId: found ? self.nodeId : -1, host: found ? self.host : '', port: found ? self.port : -1, errorCode, errorMessage };
        }),
      };
    }
    const { errorCode, errorMessage } = locate(ctx, req.key, req.keyType);
    const found = errorCode === ErrorCode.NONE;
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      nodeId: found ? self.nodeId : -1,
      host: found ? self.host : '',
      port: found ? self.port : -1,
      coordinators: [],
    };
  },
});
