/**
 * `robustmq user add|list|delete`: through the admin API (/api/v1/users), or with --meta dynamodb on the cluster's
 * table directly (./direct.ts). Passwords are read from --password-stdin (or --password) and never printed.
 */
import { Command, InvalidArgumentError } from 'commander';
import { nodeConfigSchema } from '../config/schema.js';
import { RobustMQError } from '../errors.js';
import { withOps, withTarget } from './ops.js';
import { formatTable, print } from './table.js';

interface Opts {
  json?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The node's own rule for --scram-iterations (RFC 7677: at least 4096). */
const iterations = (value: string): number => {
  const parsed = nodeConfigSchema.shape.scramIterations.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0].message);
  return parsed.data;
};

export function userCommand(): Command {
  const user = new Command('user').description(
    'add, list and delete users (for --auth on), through the admin API or, with --meta dynamodb, in the cluster\'s table',
  );

  withTarget(user.command('add <name>').description('add a user; stores a salted hash and SCRAM credentials, never the password'))
    .option('--password <password>', 'the password (visible to other local users: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--scram-iterations <n>', "with --meta: SCRAM iterations of the user's credentials (default 4096; otherwise the node's setting applies)", iterations)
    .action(async (name: string, opts: Opts & { password?: string; passwordStdin?: boolean; scramIterations?: number }, cmd: Command) => {
      if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
        throw new RobustMQError('INVALID_ARGUMENT', 'give exactly one of --password or --password-stdin');
      }
      const password = opts.password ?? (await readStdin());
      const scram = opts.scramIterations === undefined ? {} : { scramIterations: opts.scramIterations };
      const u = await withOps(cmd, (ops) => ops.addUser({ name, password }), scram);
      print(opts, u, () => `Added user "${u.name}" (${u.mechanisms.join(', ')}).`);
    });

  withTarget(user.command('list').description('list users')).action(async (opts: Opts, cmd: Command) => {
    const { users } = await withOps(cmd, (ops) => ops.listUsers());
    print(opts, users, () =>
      formatTable(['NAME', 'CREATED', 'MECHANISMS'], users.map((u) => [u.name, new Date(u.createdAt).toISOString(), u.mechanisms.join(',')])),
    );
  });

  withTarget(user.command('delete <name>').description('delete a user (open connections stay until they close)')).action(
    async (name: string, opts: Opts, cmd: Command) => {
      await withOps(cmd, (ops) => ops.deleteUser(name));
      print(opts, { deleted: name }, () => `Deleted user "${name}".`);
    },
  );
  return user;
}
