/**
 * Consumer-group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups, DeleteGroups), each defined with `defineApi` in its own file of this folder and
 * listed here; ../index.ts adds this list to the API table. They all talk to the node's protocol-neutral
 * GroupCoordinator (runtime/core/groups).
 */
import type { AnyKafkaApi } from '../types.js';
import { deleteGroupsApi } from './delete-groups.js';
import { describeGroupsApi } from './describe-groups.js';
import { findCoordinatorApi } from './find-coordinator.js';
import { heartbeatApi } from './heartbeat.js';
import { joinGroupApi } from './join-group.js';
import { leaveGroupApi } from './leave-group.js';
import { listGroupsApi } from './list-groups.js';
import { offsetCommitApi } from './offset-commit.js';
import { offsetFetchApi } from './offset-fetch.js';
import { syncGroupApi } from './sync-group.js';

export const GROUP_APIS: readonly AnyKafkaApi[] = [
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  deleteGroupsApi,
];
