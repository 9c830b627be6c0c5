/**
 * JSON REST for users: GET /api/v1/users, POST /api/v1/users {name, password}, DELETE /api/v1/users/NAME.
 * Answers never include a password, hash or key; request bodies (which hold passwords) are never logged.
 */
import { z } from 'zod';
import type { AuthService } from '../core/auth/service.js';
import { parseBody } from './topics-api.js';

const createBody = z.strictObject({ name: z.string(), password: z.string() });

export function listUsers(auth: AuthService): unknown {
  return { users: auth.users.list() };
}

export async function createUser(auth: AuthService, body: unknown): Promise<unknown> {
  const { name, password } = parseBody(createBody, body);
  return auth.users.add(name, password);
}

export async function deleteUser(auth: AuthService, name: string): Promise<void> {
  await auth.users.delete(name);
}
