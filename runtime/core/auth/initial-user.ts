/**
 * The initial user (`--initial-user`, password from ROBUSTMQ_INITIAL_USER_PASSWORD): created at start when no user
 * of that name exists, so a fresh deployment with --auth on has someone who can log in. The create is a
 * compare-and-set on the store (version 0), so brokers starting together on a shared store create it once and the
 * others find it there; an existing user, and its password, are left as they are.
 */
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { UserStore } from './users.js';

export interface InitialUser {
  readonly name?: string;
  readonly password?: string;
}

/** Throws INVALID_ARGUMENT unless the name and the password are given together (or neither). */
export function checkInitialUser({ name, password }: InitialUser): void {
  if (name !== undefined && password === undefined) {
    throw new RobustMQError('INVALID_ARGUMENT', `--initial-user ${name} needs its password in ROBUSTMQ_INITIAL_USER_PASSWORD`);
  }
  if (name === undefined && password !== undefined) {
    throw new RobustMQError('INVALID_ARGUMENT', 'ROBUSTMQ_INITIAL_USER_PASSWORD is set but --initial-user (ROBUSTMQ_INITIAL_USER) is not');
  }
}

/** Creates the user unless it exists; true when this call created it. */
export async function ensureInitialUser(users: UserStore, { name, password }: InitialUser, log: Logger): Promise<boolean> {
  if (name === undefined || password === undefined || users.has(name)) return false;
  try {
    await users.add(name, password);
  } catch (err) {
    if ((err as RobustMQError).code === 'ALREADY_EXISTS') return false; // another broker got there first
    if ((err as RobustMQError).code === 'INVALID_ARGUMENT') {
      throw new RobustMQError('INVALID_ARGUMENT', `--initial-user: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  log.info({ user: name }, `created initial user ${name}`);
  return true;
}
