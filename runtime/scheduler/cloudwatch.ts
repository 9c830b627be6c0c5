/**
 * CloudWatch, both ways: the network load balancer's flow metrics tell the scheduler whether clients are there
 * (AWS/NetworkELB, one-minute periods), and the scheduler publishes the connections-per-broker metric that
 * Application Auto Scaling tracks.
 */
import { GetMetricDataCommand, PutMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { TrafficSignal } from './decide.js';
import { CONNECTIONS_METRIC } from './names.js';

export interface TrafficSource {
  /** Traffic over the `windowMs` before `now`. */
  read(windowMs: number, now: number): Promise<TrafficSignal>;
  publishConnectionsPerBroker(value: number): Promise<void>;
}

type Series = Array<{ at: number; value: number }>;

const QUERIES = [
  { id: 'newflows', metric: 'NewFlowCount', stat: 'Sum' },
  { id: 'active', metric: 'ActiveFlowCount', stat: 'Maximum' },
  { id: 'resets', metric: 'TCP_ELB_Reset_Count', stat: 'Sum' },
] as const;

export class CloudWatchTraffic implements TrafficSource {
  /**
   * @param loadBalancer the load balancer's full name (`net/<name>/<id>`), the metrics' dimension; undefined
   *   when the service has none, and then no traffic is ever seen.
   * @param service the broker service's name, the published metric's dimension.
   */
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly loadBalancer: string | undefined,
    private readonly service: string,
  ) {}

  async read(windowMs: number, now: number): Promise<TrafficSignal> {
    if (this.loadBalancer === undefined) return { activeFlows: 0 };
    const queries: MetricDataQuery[] = QUERIES.map((q) => ({
      Id: q.id,
      MetricStat: {
        Metric: { Namespace: 'AWS/NetworkELB', MetricName: q.metric, Dimensions: [{ Name: 'LoadBalancer', Value: this.loadBalancer }] },
        Period: 60,
        Stat: q.stat,
      },
    }));
    const series = new Map<string, Series>(QUERIES.map((q) => [q.id, []]));
    let token: string | undefined;
    do {
      const out = await this.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(now - windowMs),
          EndTime: new Date(now),
          ScanBy: 'TimestampDescending',
          NextToken: token,
        }),
      );
      for (const result of out.MetricDataResults ?? []) {
        const points = series.get(result.Id ?? '');
        if (!points) continue;
        (result.Timestamps ?? []).forEach((t, i) => points.push({ at: t.getTime(), value: result.Values?.[i] ?? 0 }));
      }
      token = out.NextToken;
    } while (token);
    return summarize(series.get('newflows')!, series.get('active')!, series.get('resets')!);
  }

  async publishConnectionsPerBroker(value: number): Promise<void> {
    await this.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: CONNECTIONS_METRIC.namespace,
        MetricData: [
          {
            MetricName: CONNECTIONS_METRIC.name,
            Dimensions: [{ Name: CONNECTIONS_METRIC.dimension, Value: this.service }],
            Value: value,
            Unit: 'Count',
          },
        ],
      }),
    );
  }
}

function latestNonZero(...all: Series[]): number | undefined {
  let latest: number | undefined;
  for (const points of all) for (const p of points) if (p.value > 0 && (latest === undefined || p.at > latest)) latest = p.at;
  return latest;
}

export function summarize(newFlows: Series, active: Series, resets: Series): TrafficSignal {
  const newest = active.reduce<{ at: number; value: number } | undefined>((a, p) => (a === undefined || p.at > a.at ? p : a), undefined);
  return {
    lastClientActivityAt: latestNonZero(newFlows, active, resets),
    lastConnectAttemptAt: latestNonZero(newFlows, resets),
    activeFlows: newest?.value ?? 0,
  };
}
