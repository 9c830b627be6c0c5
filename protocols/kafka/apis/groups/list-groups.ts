/**
 * ListGroups (key 16): every group this coordinator knows, including groups known only by committed offsets
 * (Empty). v4 filters by state (KIP-518), v5 by type (KIP-848): all groups here are classic groups.
 */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/list-groups.js';
import { groupsOf } from './shared.js';

const GROUP_TYPE = 'classic';

export const listGroupsApi = defineApi({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleVersion: 3,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const typeOk = req.typesFilter.length === 0 || req.typesFilter.some((t) => t.toLowerCase() === GROUP_TYPE);
    // Groups the principal may not use are left out (Kafka filters by DESCRIBE on the group).
    const all = typeOk ? await groupsOf(ctx).listGroups(req.statesFilter) : [];
    const groups = all.filter((g) => mayOnGroup(ctx, 'consume', g.groupId));
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: GROUP_TYPE })),
    };
  },
  errorResponse: () => ({ throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] }),
});
