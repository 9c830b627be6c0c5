/** The broker service as the scheduler sees it: task counts, and the desired count it may set (ECS API). */
import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { RobustMQError } from '../errors.js';
import type { ServiceCounts } from './decide.js';

export interface ServiceScaler {
  describe(): Promise<ServiceCounts>;
  setDesired(count: number): Promise<void>;
}

export class EcsServiceScaler implements ServiceScaler {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cluster: string,
    private readonly service: string,
  ) {}

  async describe(): Promise<ServiceCounts> {
    const out = await this.ecs.send(new DescribeServicesCommand({ cluster: this.cluster, services: [this.service] }));
    const svc = out.services?.find((s) => s.status !== 'INACTIVE');
    if (!svc) {
      const why = out.failures?.[0]?.reason ?? 'not found';
      throw new RobustMQError('NOT_FOUND', `ECS service ${this.service} in cluster ${this.cluster}: ${why}`);
    }
    return { desired: svc.desiredCount ?? 0, running: svc.runningCount ?? 0, pending: svc.pendingCount ?? 0 };
  }

  async setDesired(count: number): Promise<void> {
    await this.ecs.send(new UpdateServiceCommand({ cluster: this.cluster, service: this.service, desiredCount: count }));
  }
}
