/**
 * The API table of a cluster broker: the standalone table (../apis/index.ts) with the handlers that depend on
 * who leads or coordinates what wrapped — partition requests are split by leader and forwarded, group requests go
 * to the group's owner, Metadata / FindCoordinator / DescribeCluster describe the cluster. Everything else (topic
 * administration, configs, producer ids) works on the shared MetaStore from any broker as it is.
 */
import type { AnyKafkaApi } from '../apis/types.js';
import { routedFetch } from './fetch.js';
import { routedByGroup, routedDeleteGroups, routedDescribeGroups } from './groups.js';
import { routedDeleteRecords, routedListOffsets, routedOffsetForLeaderEpoch } from './list-offsets.js';
import { clusterDescribeCluster, clusterFindCoordinator, clusterMetadata } from './metadata.js';
import { routedProduce } from './produce.js';

const WRAPPERS: Record<number, (api: AnyKafkaApi) => AnyKafkaApi> = {
  0: routedProduce,
  1: routedFetch,
  2: routedListOffsets,
  3: clusterMetadata,
  8: routedByGroup, // OffsetCommit
  10: clusterFindCoordinator,
  11: routedByGroup, // JoinGroup
  12: routedByGroup, // Heartbeat
  13: routedByGroup, // LeaveGroup
  14: routedByGroup, // SyncGroup
  15: routedDescribeGroups,
  21: routedDeleteRecords,
  23: routedOffsetForLeaderEpoch,
  42: routedDeleteGroups,
  60: clusterDescribeCluster,
};

export function clusterApis(apis: readonly AnyKafkaApi[]): AnyKafkaApi[] {
  return apis.map((api) => WRAPPERS[api.apiKey]?.(api) ?? api);
}
