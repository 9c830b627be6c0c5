/** Opens the storage engines a node offers. Each engine adds itself here. */
import path from 'node:path';
import type { NodeConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../meta/store.js';
import type { StorageEngine, StorageKind } from './engine.js';
import { parseFlushPolicy } from './flush.js';
import { MemoryStorageEngine } from './memory/engine.js';
import { s3EngineFromConfig } from './s3/from-config.js';
import { SegmentStorageEngine } from './segment/engine.js';

export interface EngineDeps {
  config: NodeConfig;
  /** Absolute data directory of the node. */
  dataDir: string;
  meta: MetaStore;
  log: Logger;
}

export type Engines = Partial<Record<StorageKind, StorageEngine>>;

export async function openEngines(deps: EngineDeps): Promise<Engines> {
  const { config } = deps;
  const engines: Engines = {
    memory: new MemoryStorageEngine(),
    segment: new SegmentStorageEngine({
      dataDir: path.join(deps.dataDir, 'logs'),
      flush: parseFlushPolicy(config.flush),
      segmentBytes: config.segmentBytes,
      segmentMs: config.segmentMs,
      indexIntervalBytes: config.indexIntervalBytes,
      maxOpenFiles: config.maxOpenFiles,
      log: deps.log.child({ component: 'segment' }),
    }),
  };
  const s3 = s3EngineFromConfig(deps);
  if (s3) engines.s3 = s3;
  return engines;
}
