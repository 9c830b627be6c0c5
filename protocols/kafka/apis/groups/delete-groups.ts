/** DeleteGroups (key 42): removes empty groups and their committed offsets; NON_EMPTY_GROUP while members remain. */
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
  handler: async (req, ctx) => ({
    throttleTimeMs: 0,
    results: (await groupsOf(ctx).deleteGroups(req.groupsNames)).map((r) => ({ groupId: r.groupId, errorCode: kafkaCode(r.error) })),
  }),
  errorResponse: (req) => ({
    throttleTimeMs: 0,
    results: req.groupsNames.map((groupId) => ({ groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE })),
  }),
});
