/**
 * Direct mode of the admin commands (`robustmq user|acl|topic ... --meta dynamodb`): instead of calling a node's
 * admin API, the CLI opens the cluster's MetaStore itself with the operator's AWS credentials (the SDK's default
 * provider chain: env, profile, SSO), so IAM on the table is the admin authentication. The table must exist: this
 * never creates it. Brokers see the changes through their store polling (users, ACLs) and topic sync.
 */
import { Option, type Command } from 'commander';
import { validateConfig } from '../config/load.js';
import { flagName } from '../config/schema.js';
import { RobustMQError } from '../errors.js';
import { DynamoMetaStore, metaTableName } from '../meta/dynamodb/store.js';

export interface DirectOpts {
  meta?: 'dynamodb';
  dynamodbTablePrefix?: string;
  dynamodbRegion?: string;
  dynamodbEndpoint?: string;
}

/** Attempts per DynamoDB request: enough to ride out throttling, few enough that a wrong endpoint fails in seconds. */
const CLI_MAX_ATTEMPTS = 3;

export function withDirect(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--meta <store>', "work on the cluster's metadata store directly with your AWS credentials, not through the admin API")
        .choices(['dynamodb']),
    )
    .option('--dynamodb-table-prefix <prefix>', 'with --meta: the table is <prefix>-meta (default: robustmq)')
    .option('--dynamodb-region <region>', "with --meta: the table's region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)")
    .option('--dynamodb-endpoint <url>', 'with --meta: another DynamoDB endpoint than AWS (LocalStack, dynalite)')
    .addHelpText(
      'after',
      '\nWith --meta dynamodb the command reads and writes the table <prefix>-meta with your AWS credentials (env, profile or\n' +
        'SSO, as the AWS CLI finds them) instead of calling the admin API; the nodes pick the change up within their poll\n' +
        'interval. The IAM permissions it needs: docs/security.md, "Managing a cluster\'s users and ACLs from your machine".',
    );
}

/** Whether the command runs in direct mode; --admin given as well is a mistake worth saying. */
export function isDirect(cmd: Command): boolean {
  const opts = cmd.opts<DirectOpts>();
  if (opts.meta === undefined) {
    const stray = ['dynamodbTablePrefix', 'dynamodbRegion', 'dynamodbEndpoint'].find((k) => cmd.getOptionValueSource(k) === 'cli');
    if (stray) throw new RobustMQError('INVALID_ARGUMENT', `--${flagName(stray)} applies with --meta dynamodb only`);
    return false;
  }
  if (cmd.getOptionValueSource('admin') === 'cli') throw new RobustMQError('INVALID_ARGUMENT', 'give --meta or --admin, not both');
  return true;
}

/**
 * Opens the table `<prefix>-meta` (never creating it). Flags are checked by the node's own config schema, so the
 * prefix, region and endpoint rules and defaults are the node's.
 */
export async function openDirect(opts: DirectOpts): Promise<DynamoMetaStore> {
  const config = validateConfig({
    meta: 'dynamodb',
    createTables: false,
    ...(opts.dynamodbTablePrefix === undefined ? {} : { dynamodbTablePrefix: opts.dynamodbTablePrefix }),
    ...(opts.dynamodbRegion === undefined ? {} : { dynamodbRegion: opts.dynamodbRegion }),
    ...(opts.dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint: opts.dynamodbEndpoint }),
  });
  const table = metaTableName(config.dynamodbTablePrefix);
  const where = `region ${config.dynamodbRegion}${config.dynamodbEndpoint === undefined ? '' : ` at ${config.dynamodbEndpoint}`}`;
  try {
    return await DynamoMetaStore.open({
      region: config.dynamodbRegion,
      ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
      tablePrefix: config.dynamodbTablePrefix,
      createTables: false,
      maxAttempts: CLI_MAX_ATTEMPTS,
    });
  } catch (err) {
    if (!(err instanceof RobustMQError)) throw err;
    if (err.code === 'STORAGE_UNAVAILABLE' && /does not exist/.test(err.message)) {
      throw new RobustMQError(
        'STORAGE_UNAVAILABLE',
        `DynamoDB table "${table}" does not exist in ${where}: check --dynamodb-table-prefix and --dynamodb-region ` +
          '(the table is created by the stack or a broker, never by this command)',
        { cause: err, retriable: false },
      );
    }
    throw new RobustMQError(err.code, `cannot use DynamoDB table "${table}" in ${where}: ${err.message}`, { cause: err, retriable: err.retriable });
  }
}
