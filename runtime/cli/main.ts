/** The `robustmq` command line. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { RobustMQError } from '../errors.js';
import { aclCommand } from './acl.js';
import { brokerCommand } from './broker.js';
import { AdminRequestError, withAdminToken } from './admin-client.js';
import { clientCommand, clusterCommand } from './cluster.js';
import { costCommand } from './cost.js';
import { metaCommand } from './meta.js';
import { startCommand } from './start.js';
import { topicCommand } from './topic.js';
import { userCommand } from './user.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('robustmq')
    .description('RobustMQ: MQTT and Kafka from one broker, with pluggable storage')
    .version(version())
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(startCommand());
  program.addCommand(brokerCommand());
  program.addCommand(metaCommand());
  program.addCommand(topicCommand());
  program.addCommand(clusterCommand());
  program.addCommand(clientCommand());
  program.addCommand(costCommand());
  program.addCommand(userCommand());
  program.addCommand(aclCommand());
  return withAdminToken(program);
}

/** Runs the CLI; known errors print one line on stderr and exit non-zero. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.exitCode);
    }
    if (err instanceof RobustMQError || err instanceof AdminRequestError) {
      process.stderr.write(`robustmq: ${err.message}\n`);
      process.exit(err instanceof RobustMQError && err.code === 'INVALID_ARGUMENT' ? 2 : 1);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`robustmq: cannot listen: ${e.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
