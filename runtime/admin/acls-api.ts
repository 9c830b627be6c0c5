/**
 * JSON REST for ACL rules: GET /api/v1/acls[?principal=NAME], POST /api/v1/acls
 * {principal, effect, action, resourceType, pattern}, DELETE /api/v1/acls/ID. See runtime/core/auth/acl-rules.ts
 * for what the fields accept.
 */
import { z } from 'zod';
import type { AuthService } from '../core/auth/service.js';
import { parseBody } from './topics-api.js';

const createBody = z.strictObject({
  principal: z.string(),
  effect: z.string(),
  action: z.string(),
  resourceType: z.string(),
  pattern: z.string().optional(),
});

export function listAcls(auth: AuthService, principal: string | null): unknown {
  return { acls: auth.acls.list(principal ?? undefined), enforced: auth.enabled };
}

export async function createAcl(auth: AuthService, body: unknown): Promise<unknown> {
  return auth.acls.add(parseBody(createBody, body));
}

export async function deleteAcl(auth: AuthService, id: string): Promise<void> {
  await auth.acls.delete(id);
}
