/** Read-only views of groups for ListGroups and DescribeGroups. */
import type { ClassicGroup } from './group.js';
import { EMPTY } from './member.js';
import type { GroupDescription, GroupListing } from './types.js';

export function listingOf(group: ClassicGroup): GroupListing {
  return { groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state };
}

/** Metadata and assignments are shown only for a Stable group, whose selected protocol is settled (as Kafka does). */
export function describeGroup(group: ClassicGroup): GroupDescription {
  const stable = group.is('Stable');
  return {
    groupId: group.groupId,
    state: group.state,
    protocolType: group.protocolType ?? '',
    protocolName: stable ? (group.protocolName ?? '') : '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: stable ? m.metadataFor(group.protocolName) : EMPTY,
      assignment: stable ? m.assignment : EMPTY,
    })),
  };
}

/** A group not in memory: Empty when it has committed offsets, otherwise Dead (Kafka's answer for unknown groups). */
export function offsetsOnlyDescription(groupId: string, hasOffsets: boolean): GroupDescription {
  return { groupId, state: hasOffsets ? 'Empty' : 'Dead', protocolType: '', protocolName: '', members: [] };
}
