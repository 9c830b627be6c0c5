/**
 * ApiVersions (key 18): the versions of every API in the table. A request for a version above ours gets
 * UNSUPPORTED_VERSION in a v0 response that still lists our ranges, so the client can retry with one we speak
 * (KIP-511; librdkafka opens with v3 and falls back this way).
 */
import { ErrorCode } from '../errors.js';
import { Request, Response } from '../messages/api-versions.js';
import { defineApi, type AnyKafkaApi } from './types.js';

export const API_VERSIONS_MAX = 3;

export function apiVersionsBody(apis: readonly AnyKafkaApi[], errorCode: number): Response {
  return {
    errorCode,
    apiKeys: apis.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

export const apiVersionsApi = defineApi({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: API_VERSIONS_MAX,
  flexibleVersion: 3,
  request: Request,
  response: Response,
  handler: (_req, ctx) => apiVersionsBody(ctx.kafka.apis, ErrorCode.NONE),
});
