/**
 * The S3 engine a node runs, built from its configuration: when `--s3-bucket` is set or `--storage s3` is chosen.
 * With `--broker-id` (a cluster broker) the engine writes under that broker's own lease and shares the prefix with
 * the other brokers; without it, it is the single writer 'standalone'.
 */
import type { NodeConfig } from '../../config/schema.js';
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import { S3StorageEngine } from './engine.js';

export function s3EngineFromConfig(deps: { config: NodeConfig; meta: MetaStore; log: Logger }): S3StorageEngine | undefined {
  const c = deps.config;
  if (!c.s3Bucket) {
    if (c.storage === 's3') throw new RobustMQError('INVALID_ARGUMENT', '--storage s3 needs --s3-bucket (env ROBUSTMQ_S3_BUCKET)');
    return undefined;
  }
  return new S3StorageEngine({
    bucket: c.s3Bucket,
    endpoint: c.s3Endpoint,
    region: c.s3Region,
    prefix: c.s3Prefix,
    forcePathStyle: c.s3ForcePathStyle,
    flushMs: c.s3FlushMs,
    flushBytes: c.s3FlushBytes,
    cacheBytes: c.s3CacheMb * 1024 * 1024,
    appendTimeoutMs: c.s3AppendTimeoutMs,
    meta: deps.meta,
    ...(c.brokerId === undefined ? {} : { brokerId: c.brokerId, shared: true }),
    log: deps.log.child({ engine: 's3' }),
  });
}
