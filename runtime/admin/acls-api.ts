/**
 * JSON REST for ACL rules: GET /api/v1/acls[?principal=NAME], POST /api/v1/acls
 * {principal, effect, action, resourceType, pattern}, DELETE /api/v1/acls/ID. See runtime/core/auth/acl-rules.ts
 * for what the fields accept. The CLI's direct mode (`robustmq acl ... --meta dynamodb`) calls these same functions
 * on an AclEngine of its own.
 */
import { z } from 'zod';
import type { AclEngine, AclRule } from '../core/auth/acl.js';
import { parseBody } from './topics-api.js';

const createBody = z.strictObject({
  principal: z.string(),
  effect: z.string(),
  action: z.string(),
  resourceType: z.string(),
  pattern: z.string().optional(),
});

/** `enforced`: whether the node answering runs with --auth on; unknown (absent) when no node answers. */
export function listAcls(acls: AclEngine, principal: string | null, enforced?: boolean): { acls: AclRule[]; enforced?: boolean } {
  return { acls: acls.list(principal ?? undefined), ...(enforced === undefined ? {} : { enforced }) };
}

export async function createAcl(acls: AclEngine, body: unknown): Promise<AclRule> {
  return acls.add(parseBody(createBody, body));
}

export async function deleteAcl(acls: AclEngine, id: string): Promise<void> {
  await acls.delete(id);
}
