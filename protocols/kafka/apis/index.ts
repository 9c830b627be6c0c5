/**
 * The API table: every Kafka API this broker serves, once. ApiVersions answers from it and the connection
 * dispatches by it — an API key not listed here, or a version outside its range, gets UNSUPPORTED_VERSION.
 *
 * To add an API: describe its messages in ../messages/<api>.ts (schema.ts DSL), write `export const xApi =
 * defineApi({ apiKey, name, minVersion, maxVersion, flexibleVersion, request, response, handler, errorResponse })`
 * in ./<api>.ts, and list it below. Consumer-group APIs are listed in ./groups/index.ts.
 */
import { alterConfigsApi, incrementalAlterConfigsApi } from './alter-configs.js';
import { apiVersionsApi } from './api-versions.js';
import { createPartitionsApi } from './create-partitions.js';
import { createTopicsApi } from './create-topics.js';
import { deleteRecordsApi } from './delete-records.js';
import { deleteTopicsApi } from './delete-topics.js';
import { describeClusterApi } from './describe-cluster.js';
import { describeConfigsApi } from './describe-configs.js';
import { fetchApi } from './fetch.js';
import { GROUP_APIS } from './groups/index.js';
import { initProducerIdApi } from './init-producer-id.js';
import { listOffsetsApi } from './list-offsets.js';
import { metadataApi } from './metadata.js';
import { offsetForLeaderEpochApi } from './offset-for-leader-epoch.js';
import { produceApi } from './produce.js';
import { saslAuthenticateApi } from './sasl-authenticate.js';
import { saslHandshakeApi } from './sasl-handshake.js';
import type { AnyKafkaApi } from './types.js';

export { defineApi, isFlexible, type AnyKafkaApi, type KafkaApi, type KafkaRequestContext } from './types.js';

export const KAFKA_APIS: readonly AnyKafkaApi[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  metadataApi,
  apiVersionsApi,
  createTopicsApi,
  deleteTopicsApi,
  deleteRecordsApi,
  initProducerIdApi,
  offsetForLeaderEpochApi,
  describeConfigsApi,
  alterConfigsApi,
  createPartitionsApi,
  incrementalAlterConfigsApi,
  describeClusterApi,
  saslHandshakeApi,
  saslAuthenticateApi,
  ...GROUP_APIS,
].sort((a, b) => a.apiKey - b.apiKey);
