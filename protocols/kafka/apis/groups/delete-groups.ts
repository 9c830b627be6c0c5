/** DeleteGroups (key 42): removes empty groups and their committed offsets; NON_EMPTY_GROUP while members remain. */
import { mayOnGroup } from '../../authz.js';
import { ErrorCode } from '../../errors.js';
import { defineApi } from '../types.js';
import { Request, Response } from './messages/delete-groups.js';
import { groupsOf, kafkaCode } from './shared.js';

export const deleteGroupsApi = defineApi({
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleVersion: 2,
  request: Request,
  response: Response,
  handler: async (req, ctx) => {
    const allowed = req.groupsNames.filter((g) => mayOnGroup(ctx, 'delete', g));
    const deleted = new Map((await groupsOf(ctx).deleteGroups(allowed)).map((r) => [r.groupId, kafkaCode(r.error)]));
    const results = req.groupsNames.map((groupId) => ({ groupId, errorCode: deleted.get(groupId) ?? ErrorCode.GROUP_AUTHORIZATION_FAILED }));
    return { throttleTimeMs: 0, results };
  },
  errorResponse: (req) => ({
    throttleTimeMs: 0,
    results: req.groupsNames.map((groupId) => ({ groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE })),
  }),
});
