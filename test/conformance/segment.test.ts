import { join } from 'node:path';
import { SegmentStorageEngine } from '../../runtime/storage/segment/engine.js';
import { storageConformance } from './storage-suite.js';

// Tiny segments and index intervals so the suite's small logs span many segments, index entries and rolls.
storageConformance({
  name: 'segment (flush always, 1 KiB segments)',
  persistent: true,
  create: async (dir) =>
    new SegmentStorageEngine({ dataDir: join(dir, 'logs'), flush: { mode: 'always' }, segmentBytes: 1024, indexIntervalBytes: 64 }),
});

// Few descriptors and almost no index memory: every path must work through evictions and reopens.
storageConformance({
  name: 'segment (flush os, 4 KiB segments, 4 open files, 64-byte index cache)',
  persistent: true,
  create: async (dir) =>
    new SegmentStorageEngine({
      dataDir: join(dir, 'logs'),
      flush: { mode: 'os' },
      segmentBytes: 4096,
      indexIntervalBytes: 100,
      maxOpenFiles: 4,
      indexCacheBytes: 64,
    }),
});

storageConformance({
  name: 'segment (defaults, flush interval:50)',
  persistent: true,
  create: async (dir) => new SegmentStorageEngine({ dataDir: join(dir, 'logs'), flush: { mode: 'interval', intervalMs: 50 } }),
});
