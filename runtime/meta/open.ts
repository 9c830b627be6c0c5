/** Opens the MetaStore chosen by `--meta`. */
import path from 'node:path';
import type { NodeConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { DynamoMetaStore } from './dynamodb/store.js';
import { EmbeddedMetaStore } from './embedded/store.js';
import type { MetaStore } from './store.js';

export async function openMetaStore(config: NodeConfig, dataDir: string, log: Logger): Promise<MetaStore> {
  switch (config.meta) {
    case 'embedded':
      return EmbeddedMetaStore.open(path.join(dataDir, 'meta'), { log });
    case 'dynamodb':
      // Credentials come from the SDK's default provider chain (env, profile, ECS task role, instance role).
      return DynamoMetaStore.open({
        region: config.dynamodbRegion,
        ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
        tablePrefix: config.dynamodbTablePrefix,
        createTables: config.createTables,
        pollMs: config.dynamodbPollMs,
        log,
      });
  }
}
