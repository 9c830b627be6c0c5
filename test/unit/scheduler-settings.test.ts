import { describe, expect, it } from 'vitest';
import { readSchedulerSettings } from '../../runtime/scheduler/settings.js';

const base = {
  SCHEDULER_CLUSTER: 'c',
  SCHEDULER_SERVICE: 's',
  ROBUSTMQ_DYNAMODB_REGION: 'eu-west-1',
};

describe('scheduler settings', () => {
  it('applies the defaults the stack documents and reads the broker variables for the table', () => {
    const s = readSchedulerSettings({ ...base, ROBUSTMQ_DYNAMODB_TABLE_PREFIX: 'prod' });
    expect(s).toEqual({
      meta: { tablePrefix: 'prod', region: 'eu-west-1' },
      logLevel: 'info',
      cluster: 'c',
      service: 's',
      loadBalancer: undefined,
      policy: { minBrokers: 1, maxBrokers: 4, connectionsPerBroker: 5000, idleAfterMs: 15 * 60_000 },
    });
    expect(readSchedulerSettings({ SCHEDULER_CLUSTER: 'c', SCHEDULER_SERVICE: 's', AWS_REGION: 'us-west-2' }).meta).toEqual({
      tablePrefix: 'robustmq',
      region: 'us-west-2',
    });
  });

  it('names the variable that is missing or wrong', () => {
    expect(() => readSchedulerSettings({ ...base, SCHEDULER_CLUSTER: '' })).toThrow(/SCHEDULER_CLUSTER/);
    expect(() => readSchedulerSettings({ ...base, SCHEDULER_MIN_BROKERS: '5', SCHEDULER_MAX_BROKERS: '2' })).toThrow(/SCHEDULER_MIN_BROKERS: minBrokers must not exceed/);
    expect(() => readSchedulerSettings({ ...base, SCHEDULER_IDLE_MINUTES: '0' })).toThrow(/SCHEDULER_IDLE_MINUTES/);
    expect(() => readSchedulerSettings({ SCHEDULER_CLUSTER: 'c', SCHEDULER_SERVICE: 's' })).toThrow(/ROBUSTMQ_DYNAMODB_REGION or AWS_REGION/);
    expect(() => readSchedulerSettings({ ...base, ROBUSTMQ_DYNAMODB_ENDPOINT: 'not a url' })).toThrow(/ROBUSTMQ_DYNAMODB_ENDPOINT/);
  });
});
