/**
 * The node's configuration: one zod schema validates every source (flags, ROBUSTMQ_* env vars, --config file).
 * Each option's flag name is its kebab-case key; its env var is ROBUSTMQ_<FLAG_IN_CAPS> with dashes as underscores.
 */
import { z } from 'zod';
import { LOG_LEVELS } from '../logger.js';
import { parseFlushPolicy } from '../storage/flush.js';

const port = z.coerce
  .number({ error: 'must be a port number from 0 to 65535' })
  .int({ error: 'must be a port number from 0 to 65535' })
  .min(0, { error: 'must be a port number from 0 to 65535' })
  .max(65535, { error: 'must be a port number from 0 to 65535' });

const positiveInt = (what: string) =>
  z.coerce.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).positive({ error: `must be ${what}` });

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])]).transform((v) =>
  typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v),
);

/** Engines this build can run; `--storage` is checked against it. */
export const AVAILABLE_STORAGE = ['memory'] as const;
export const AVAILABLE_META = ['embedded'] as const;

export const nodeConfigSchema = z.object({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('0.0.0.0'),
  mqttPort: port.default(1883),
  wsPort: port.default(8083),
  kafkaPort: port.default(9092),
  adminPort: port.default(8080),
  storage: z.enum(AVAILABLE_STORAGE).default('memory'),
  meta: z.enum(AVAILABLE_META).default('embedded'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Default durability policy of persistent engines: always | os | interval:MS. */
  flush: z
    .string()
    .default('always')
    .refine((v) => {
      try {
        parseFlushPolicy(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be always, os or interval:MS'),
  defaultPartitions: positiveInt('a positive integer').default(1),
  /** Default topic retention; -1 keeps data forever. 604800000 = 7 days, Kafka's default. */
  retentionMs: z.coerce.number().int().min(-1).default(604_800_000),
  retentionBytes: z.coerce.number().int().min(-1).default(-1),
  retentionCheckMs: positiveInt('a positive number of milliseconds').default(300_000),
  /** Largest record batch / message accepted (Kafka message.max.bytes, MQTT maximum packet size). */
  maxMessageBytes: positiveInt('a positive number of bytes').default(1_048_576 + 12 + 61),
  autoCreateTopics: bool.default(true),
  /** Seconds allowed for graceful shutdown before the process exits anyway. */
  shutdownTimeoutMs: positiveInt('a positive number of milliseconds').default(10_000),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
export type NodeConfigInput = z.input<typeof nodeConfigSchema>;

/** camelCase key → kebab-case flag name. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** camelCase key → ROBUSTMQ_ env var name. */
export function envName(key: string): string {
  return `ROBUSTMQ_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}
