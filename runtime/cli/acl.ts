/**
 * `robustmq acl add|list|delete`: through the admin API (/api/v1/acls), or with --meta dynamodb on the cluster's
 * table directly (./direct.ts). ACLs are enforced only with --auth on.
 *
 *   robustmq acl add --user alice --allow produce --topic 'orders-*'
 *   robustmq acl add --user '*' --deny subscribe --mqtt 'secret/#'
 *   robustmq acl add --user bob --allow publish --mqtt 'devices/%c/#'
 */
import { Command } from 'commander';
import type { AclRule } from '../core/auth/acl-rules.js';
import { RobustMQError } from '../errors.js';
import { withOps, withTarget } from './ops.js';
import { formatTable, print } from './table.js';

interface AdminOpts {
  json?: boolean;
}

interface AddOpts extends AdminOpts {
  user: string;
  allow?: string;
  deny?: string;
  topic?: string;
  group?: string;
  mqtt?: string;
  cluster?: boolean;
}

const resourceText = (r: AclRule): string => (r.resourceType === 'cluster' ? 'cluster' : `${r.resourceType}:${r.pattern}`);

function ruleBody(opts: AddOpts): Record<string, string> {
  if ((opts.allow === undefined) === (opts.deny === undefined)) throw new RobustMQError('INVALID_ARGUMENT', 'give exactly one of --allow or --deny');
  const resources = [
    opts.topic !== undefined && { resourceType: 'topic', pattern: opts.topic },
    opts.group !== undefined && { resourceType: 'group', pattern: opts.group },
    opts.mqtt !== undefined && { resourceType: 'mqtt', pattern: opts.mqtt },
    opts.cluster === true && { resourceType: 'cluster', pattern: '*' },
  ].filter((r): r is { resourceType: string; pattern: string } => r !== false);
  if (resources.length !== 1) throw new RobustMQError('INVALID_ARGUMENT', 'give exactly one of --topic, --group, --mqtt or --cluster');
  const effect = opts.allow !== undefined ? 'allow' : 'deny';
  return { principal: opts.user, effect, action: (opts.allow ?? opts.deny)!, ...resources[0] };
}

export function aclCommand(): Command {
  const acl = new Command('acl').description(
    "add, list and delete access rules (enforced with --auth on; deny wins), through the admin API or, with --meta dynamodb, in the cluster's table",
  );

  withTarget(acl.command('add').description('add a rule'))
    .requiredOption('--user <name>', 'the user the rule is for, or * for every user')
    .option('--allow <action>', 'allow: publish, subscribe (MQTT); produce, consume, create, delete, alter (Kafka)')
    .option('--deny <action>', 'deny an action (wins over any allow)')
    .option('--topic <pattern>', 'Kafka topic: a name, prefix* or *')
    .option('--group <pattern>', 'Kafka consumer group: a name, prefix* or *')
    .option('--mqtt <filter>', 'MQTT topic filter; %u = user name, %c = client id')
    .option('--cluster', 'the cluster (produce = idempotent producers, alter = broker configs)')
    .action(async (opts: AddOpts, cmd: Command) => {
      const body = ruleBody(opts);
      const rule = await withOps(cmd, (ops) => ops.addAcl(body));
      print(opts, rule, () => `Added rule ${rule.id}: ${rule.effect} ${rule.principal} ${rule.action} ${resourceText(rule)}.`);
    });

  withTarget(acl.command('list').description('list rules'))
    .option('--user <name>', 'only the rules of this user (or *)')
    .action(async (opts: AdminOpts & { user?: string }, cmd: Command) => {
      const { acls, enforced } = await withOps(cmd, (ops) => ops.listAcls(opts.user));
      print(opts, acls, () => {
        const table = formatTable(
          ['ID', 'USER', 'EFFECT', 'ACTION', 'RESOURCE'],
          acls.map((r) => [r.id, r.principal, r.effect, r.action, resourceText(r)]),
        );
        return enforced === false ? `${table}\n(not enforced: the node runs with --auth off)` : table;
      });
    });

  withTarget(acl.command('delete <id>').description('delete a rule by its id')).action(async (id: string, opts: AdminOpts, cmd: Command) => {
    await withOps(cmd, (ops) => ops.deleteAcl(id));
    print(opts, { deleted: id }, () => `Deleted rule ${id}.`);
  });
  return acl;
}
