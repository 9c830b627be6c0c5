/** The scheduler function's settings, from its environment (names in names.ts, set by infra/). */
import { z } from 'zod';
import { envName } from '../config/schema.js';
import { RobustMQError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../logger.js';
import type { ScalingPolicy } from './decide.js';
import { SCHEDULER_ENV } from './names.js';

const count = z.coerce.number().int().min(0);

const settingsSchema = z
  .object({
    cluster: z.string().min(1),
    service: z.string().min(1),
    loadBalancer: z.string().min(1).optional(),
    minBrokers: count.default(1),
    maxBrokers: count.default(4),
    connectionsPerBroker: z.coerce.number().int().positive().default(5000),
    idleMinutes: z.coerce.number().int().positive().default(15),
  })
  .refine((s) => s.minBrokers <= s.maxBrokers, { message: 'minBrokers must not exceed maxBrokers', path: ['minBrokers'] });

/** Where the MetaStore table is: the same ROBUSTMQ_* variables (and defaults) a broker reads. */
export interface SchedulerMetaSettings {
  readonly tablePrefix: string;
  readonly region: string;
  readonly endpoint?: string;
}

const metaSchema = z.object({
  tablePrefix: z.string().min(1).default('robustmq'),
  region: z.string().min(1),
  endpoint: z.string().url().optional(),
});

export interface SchedulerSettings {
  readonly meta: SchedulerMetaSettings;
  readonly logLevel: LogLevel;
  readonly cluster: string;
  readonly service: string;
  readonly loadBalancer?: string;
  readonly policy: ScalingPolicy;
}

export function readSchedulerSettings(env: NodeJS.ProcessEnv): SchedulerSettings {
  const raw = Object.fromEntries(
    Object.entries(SCHEDULER_ENV)
      .map(([key, name]) => [key, env[name]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '') as keyof typeof SCHEDULER_ENV;
    throw new RobustMQError('INVALID_ARGUMENT', `scheduler setting ${SCHEDULER_ENV[key] ?? key}: ${issue?.message}`);
  }
  const s = parsed.data;
  return {
    meta: readMetaSettings(env),
    logLevel: z.enum(LOG_LEVELS).catch('info').parse(env[envName('logLevel')]),
    cluster: s.cluster,
    service: s.service,
    loadBalancer: s.loadBalancer,
    policy: {
      minBrokers: s.minBrokers,
      maxBrokers: s.maxBrokers,
      connectionsPerBroker: s.connectionsPerBroker,
      idleAfterMs: s.idleMinutes * 60_000,
    },
  };
}

function readMetaSettings(env: NodeJS.ProcessEnv): SchedulerMetaSettings {
  const pick = (name: string) => (env[name] === '' ? undefined : env[name]);
  const raw = {
    tablePrefix: pick(envName('dynamodbTablePrefix')),
    region: pick(envName('dynamodbRegion')) ?? pick('AWS_REGION'),
    endpoint: pick(envName('dynamodbEndpoint')),
  };
  const parsed = metaSchema.safeParse(raw);
  if (!parsed.success) {
    const key = String(parsed.error.issues[0]?.path[0] ?? '');
    const name = key === 'region' ? `${envName('dynamodbRegion')} or AWS_REGION` : envName(`dynamodb${key[0]?.toUpperCase()}${key.slice(1)}`);
    throw new RobustMQError('INVALID_ARGUMENT', `scheduler setting ${name}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}
