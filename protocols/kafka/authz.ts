/**
 * ACL checks for Kafka requests, on the node's protocol-neutral ACL engine (runtime/core/auth/acl.ts). Kafka's
 * operations map to the engine's actions:
 *
 *   Produce                                  produce  on the topic          → TOPIC_AUTHORIZATION_FAILED (29)
 *   Fetch, ListOffsets, OffsetForLeaderEpoch consume  on the topic          → 29
 *   Metadata, DescribeConfigs                any action on the topic ("describe"): unlisted / 29 when named
 *   CreateTopics, auto-creation              create   on the topic          → 29
 *   DeleteTopics, DeleteRecords              delete   on the topic          → 29
 *   CreatePartitions, (Incremental)AlterConfigs  alter on the topic        → 29
 *   group APIs (not FindCoordinator), OffsetCommit/Fetch  consume on the group → GROUP_AUTHORIZATION_FAILED (30)
 *     (OffsetCommit/OffsetFetch also need consume on each topic → 29)
 *   DeleteGroups                             delete   on the group          → 30
 *   InitProducerId (idempotence)             produce  on the cluster        → CLUSTER_AUTHORIZATION_FAILED (31)
 *   AlterConfigs on the broker               alter    on the cluster        → 31
 *
 * With auth off every check passes (ACLs are not enforced). A request a cluster peer forwards is checked here, by
 * the broker serving it, as the principal the entry broker authenticated (cluster/envelope.ts); the entry broker
 * does not check what it forwards, so every decision is made once, where the data is.
 */
import type { AclAction } from '../../runtime/core/auth/types.js';
import type { KafkaRequestContext } from './apis/types.js';

const DESCRIBE: readonly AclAction[] = ['produce', 'consume', 'create', 'delete', 'alter'];

export function mayOnTopic(ctx: KafkaRequestContext, action: AclAction, topic: string): boolean {
  return ctx.auth.authorize(ctx.session.principal, action, { type: 'topic', name: topic });
}

export function mayOnGroup(ctx: KafkaRequestContext, action: AclAction, group: string): boolean {
  return ctx.auth.authorize(ctx.session.principal, action, { type: 'group', name: group });
}

export function mayOnCluster(ctx: KafkaRequestContext, action: AclAction): boolean {
  return ctx.auth.authorize(ctx.session.principal, action, { type: 'cluster', name: '' });
}

/** Kafka's DESCRIBE is implied by every other topic operation: a topic is visible to whoever may do anything with it. */
export function mayDescribeTopic(ctx: KafkaRequestContext, topic: string): boolean {
  return !ctx.auth.enabled || DESCRIBE.some((action) => mayOnTopic(ctx, action, topic));
}
