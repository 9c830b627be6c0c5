/** Every config key as a CLI option: `--kebab-case <value>` (booleans: `--x` / `--no-x`), plus `--config FILE`. */
import { Option, type Command } from 'commander';
import { CONFIG_KEYS } from '../config/load.js';
import { envName, flagName, nodeConfigSchema } from '../config/schema.js';

export const OPTION_HELP: Record<string, string> = {
  dataDir: 'directory for topic data and metadata',
  host: 'address the listeners bind to',
  mqttPort: 'MQTT over TCP port (0 = pick a free port)',
  wsPort: 'MQTT over WebSocket port, path /mqtt (0 = pick a free port)',
  kafkaPort: 'Kafka protocol port (0 = pick a free port)',
  adminPort: 'admin HTTP API port: /healthz, /metrics, /api/v1 (0 = pick a free port)',
  storage: 'default storage engine of new topics',
  meta: 'metadata store',
  logLevel: 'log level',
  flush: 'default durability of persistent engines: always, os or interval:MS',
  defaultPartitions: 'partitions of auto-created topics',
  retentionMs: 'default topic retention in ms (-1 = forever)',
  retentionBytes: 'default retention size per partition in bytes (-1 = unlimited)',
  retentionCheckMs: 'how often retention runs, in ms',
  maxMessageBytes: 'largest record batch or message accepted, in bytes',
  autoCreateTopics: 'create Kafka topics on first use',
  shutdownTimeoutMs: 'time allowed for a graceful shutdown, in ms',
  mqttMaxPacketSize: 'largest MQTT packet accepted from and sent to clients, in bytes',
  mqttMaxConnections: 'MQTT connections (TCP + WebSocket) served at once',
  mqttMaxInflight: 'QoS 1/2 messages in flight to a client that states no Receive Maximum',
  mqttSessionQueueLimit: 'messages queued per MQTT session; the oldest QoS 0 are dropped first',
  mqttSysIntervalMs: 'interval of the $SYS/broker statistics in ms (0 = off)',
  mqttServerKeepAlive: 'MQTT 5 Server Keep Alive in seconds (0 = use the client\'s)',
  mqttMaxQos: 'highest QoS granted to subscriptions and accepted from publishers',
  mqttTopicAliasMaximum: 'MQTT 5 topic aliases a client may set',
};

/** The one-line description of a config option: the schema's description, else the table above. */
export function optionHelp(key: string): string {
  const field = nodeConfigSchema.shape[key as keyof typeof nodeConfigSchema.shape] as { description?: string } | undefined;
  return field?.description ?? OPTION_HELP[key] ?? key;
}

export function addConfigOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'YAML or JSON config file (env ROBUSTMQ_CONFIG)');
  const defaults = nodeConfigSchema.parse({}) as Record<string, unknown>;
  for (const key of CONFIG_KEYS) {
    const help = `${optionHelp(key)} [env ${envName(key)}]`;
    if (typeof defaults[key] === 'boolean') {
      cmd.addOption(new Option(`--${flagName(key)}`, `${help} (default ${String(defaults[key])})`));
      cmd.addOption(new Option(`--no-${flagName(key)}`, `disable --${flagName(key)}`));
    } else {
      const shown = defaults[key] === undefined ? '' : ` (default: ${String(defaults[key])})`;
      cmd.addOption(new Option(`--${flagName(key)} <value>`, `${help}${shown}`));
    }
  }
  return cmd;
}
