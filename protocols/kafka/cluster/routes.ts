/**
 * Splitting a partition-addressed request by leader. Each topic's partitions go to one of three places: `local`
 * (this broker leads them — or the topic is unknown here, so the local handler answers: auto-creation, errors,
 * ACL refusals), a live `remote` leader, or `none` (no live leader yet: a failover is under way). Requests that
 * arrived over the internal listener are never split: the forwarding broker already chose this one.
 */
import type { BrokerLeaseValue } from '../../../runtime/cluster/records.js';
import type { KafkaRequestContext } from '../apis/types.js';

export interface TopicPart<P> {
  readonly name: string;
  readonly parts: P[];
}

export interface Routes<P> {
  readonly local: TopicPart<P>[];
  readonly none: TopicPart<P>[];
  readonly remote: Map<string, { broker: BrokerLeaseValue; topics: TopicPart<P>[] }>;
}

/** Whether this request should be split at all. */
export function routable(ctx: KafkaRequestContext): boolean {
  return ctx.broker.cluster !== undefined && ctx.connection.internal !== true;
}

function add<P>(list: TopicPart<P>[], name: string, part: P): void {
  let t = list.find((x) => x.name === name);
  if (!t) list.push((t = { name, parts: [] }));
  t.parts.push(part);
}

/**
 * Routes every partition of `topics`. A partition led elsewhere is forwarded whatever the client's ACLs say: its
 * leader decides, as the client's principal (envelope.ts), so each partition is authorized once, where it is
 * served. `allowed(topic)` decides only for partitions without a live leader: false sends them to the local handler,
 * which refuses them as usual, rather than telling a client that may not see the topic to retry.
 */
export function routeByLeader<P>(
  ctx: KafkaRequestContext,
  topics: ReadonlyArray<{ name: string; parts: readonly P[] }>,
  indexOf: (part: P) => number,
  allowed: (topic: string) => boolean,
): Routes<P> {
  const cluster = ctx.broker.cluster!;
  const routes: Routes<P> = { local: [], none: [], remote: new Map() };
  for (const t of topics) {
    const record = ctx.broker.topics.get(t.name);
    for (const part of t.parts) {
      const index = indexOf(part);
      if (!record || index < 0 || index >= record.partitions) {
        add(routes.local, t.name, part);
        continue;
      }
      const { route } = cluster.leaderOf(t.name, index);
      if (route.kind === 'local') add(routes.local, t.name, part);
      else if (route.kind === 'none') add(allowed(t.name) ? routes.none : routes.local, t.name, part);
      else {
        let r = routes.remote.get(route.broker.id);
        if (!r) routes.remote.set(route.broker.id, (r = { broker: route.broker, topics: [] }));
        add(r.topics, t.name, part);
      }
    }
  }
  return routes;
}

export function onlyLocal<P>(routes: Routes<P>): boolean {
  return routes.none.length === 0 && routes.remote.size === 0;
}

/** Key of one partition's answer while merging sub-responses. */
export function partKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
