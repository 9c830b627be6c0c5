import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { metaConformance } from './meta-suite.js';

metaConformance({
  name: 'embedded',
  persistent: true,
  create: (dir) => EmbeddedMetaStore.open(dir),
});

// Again with a tiny compaction threshold, so snapshots are written in the middle of the suite's writes.
metaConformance({
  name: 'embedded (compacting constantly)',
  persistent: true,
  create: (dir) => EmbeddedMetaStore.open(dir, { compactAfterBytes: 256 }),
});
