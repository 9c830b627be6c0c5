/**
 * JSON REST for users: GET /api/v1/users, POST /api/v1/users {name, password}, DELETE /api/v1/users/NAME.
 * Answers never include a password, hash or key; request bodies (which hold passwords) are never logged.
 * The CLI's direct mode (`robustmq user ... --meta dynamodb`) calls these same functions on a UserStore of its own.
 */
import { z } from 'zod';
import type { UserSummary } from '../core/auth/types.js';
import type { UserStore } from '../core/auth/users.js';
import { parseBody } from './topics-api.js';

const createBody = z.strictObject({ name: z.string(), password: z.string() });

export function listUsers(users: UserStore): { users: UserSummary[] } {
  return { users: users.list() };
}

export async function createUser(users: UserStore, body: unknown): Promise<UserSummary> {
  const { name, password } = parseBody(createBody, body);
  return users.add(name, password);
}

export async function deleteUser(users: UserStore, name: string): Promise<void> {
  await users.delete(name);
}
