/**
 * `robustmq acl add|list|delete`, talking to the admin API (/api/v1/acls). ACLs are enforced only with --auth on.
 *
 *   robustmq acl add --user alice --allow produce --topic 'orders-*'
 *   robustmq acl add --user '*' --deny subscribe --mqtt 'secret/#'
 *   robustmq acl add --user bob --allow publish --mqtt 'devices/%c/#'
 */
import { Command } from 'commander';
import type { AclRule } from '../core/auth/acl-rules.js';
import { RobustMQError } from '../errors.js';
import { adminRequest } from './admin-client.js';
import { formatTable } from './table.js';
import { withAdmin } from './topic.js';

interface AdminOpts {
  admin: string;
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

function print(opts: AdminOpts, json: unknown, text: () => string): void {
  process.stdout.write(`${opts.json ? JSON.stringify(json, null, 2) : text()}\n`);
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
  const acl = new Command('acl').description('add, list and delete access rules (enforced with --auth on; deny wins)');

  withAdmin(acl.command('add').description('add a rule'))
    .requiredOption('--user <name>', 'the user the rule is for, or * for every user')
    .option('--allow <action>', 'allow: publish, subscribe (MQTT); produce, consume, create, delete, alter (Kafka)')
    .option('--deny <action>', 'deny an action (wins over any allow)')
    .option('--topic <pattern>', 'Kafka topic: a name, prefix* or *')
    .option('--group <pattern>', 'Kafka consumer group: a name, prefix* or *')
    .option('--mqtt <filter>', 'MQTT topic filter; %u = user name, %c = client id')
    .option('--cluster', 'the cluster (produce = idempotent producers, alter = broker configs)')
    .action(async (opts: AddOpts) => {
      const rule = await adminRequest<AclRule>(opts.admin, 'POST', 'api/v1/acls', ruleBody(opts));
      print(opts, rule, () => `Added rule ${rule.id}: ${rule.effect} ${rule.principal} ${rule.action} ${resourceText(rule)}.`);
    });

  withAdmin(acl.command('list').description('list rules'))
    .option('--user <name>', 'only the rules of this user (or *)')
    .action(async (opts: AdminOpts & { user?: string }) => {
      const query = opts.user === undefined ? '' : `?principal=${encodeURIComponent(opts.user)}`;
      const { acls, enforced } = await adminRequest<{ acls: AclRule[]; enforced: boolean }>(opts.admin, 'GET', `api/v1/acls${query}`);
      print(opts, acls, () => {
        const table = formatTable(
          ['ID', 'USER', 'EFFECT', 'ACTION', 'RESOURCE'],
          acls.map((r) => [r.id, r.principal, r.effect, r.action, resourceText(r)]),
        );
        return enforced ? table : `${table}\n(not enforced: the node runs with --auth off)`;
      });
    });

  withAdmin(acl.command('delete <id>').description('delete a rule by its id')).action(async (id: string, opts: AdminOpts) => {
    await adminRequest(opts.admin, 'DELETE', `api/v1/acls/${encodeURIComponent(id)}`);
    print(opts, { deleted: id }, () => `Deleted rule ${id}.`);
  });
  return acl;
}
