/** `robustmq user add|list|delete`, talking to the admin API (/api/v1/users). */
import { Command } from 'commander';
import type { UserSummary } from '../core/auth/types.js';
import { RobustMQError } from '../errors.js';
import { adminRequest } from './admin-client.js';
import { formatTable } from './table.js';
import { withAdmin } from './topic.js';

interface AdminOpts {
  admin: string;
  json?: boolean;
}

function print(opts: AdminOpts, json: unknown, text: () => string): void {
  process.stdout.write(`${opts.json ? JSON.stringify(json, null, 2) : text()}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function userCommand(): Command {
  const user = new Command('user').description('add, list and delete users (for --auth on)');

  withAdmin(user.command('add <name>').description('add a user; stores a salted hash and SCRAM credentials, never the password'))
    .option('--password <password>', 'the password (visible to other local users: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, opts: AdminOpts & { password?: string; passwordStdin?: boolean }) => {
      if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
        throw new RobustMQError('INVALID_ARGUMENT', 'give exactly one of --password or --password-stdin');
      }
      const password = opts.password ?? (await readStdin());
      const u = await adminRequest<UserSummary>(opts.admin, 'POST', 'api/v1/users', { name, password });
      print(opts, u, () => `Added user "${u.name}" (${u.mechanisms.join(', ')}).`);
    });

  withAdmin(user.command('list').description('list users')).action(async (opts: AdminOpts) => {
    const { users } = await adminRequest<{ users: UserSummary[] }>(opts.admin, 'GET', 'api/v1/users');
    print(opts, users, () =>
      formatTable(['NAME', 'CREATED', 'MECHANISMS'], users.map((u) => [u.name, new Date(u.createdAt).toISOString(), u.mechanisms.join(',')])),
    );
  });

  withAdmin(user.command('delete <name>').description('delete a user (open connections stay until they close)')).action(
    async (name: string, opts: AdminOpts) => {
      await adminRequest(opts.admin, 'DELETE', `api/v1/users/${encodeURIComponent(name)}`);
      print(opts, { deleted: name }, () => `Deleted user "${name}".`);
    },
  );
  return user;
}
