import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DynamoMetaStore } from '../../runtime/meta/dynamodb/store.js';
import { startDynalite, TEST_CREDENTIALS, TEST_REGION, type Dynalite } from '../helpers/dynalite.js';
import { metaConformance } from './meta-suite.js';

let dynamo: Dynalite;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());

// Each test's temp dir names its own table, so tests share one dynalite but no data.
const open = (dir: string, extra: { pollMs?: number } = {}) =>
  DynamoMetaStore.open({
    endpoint: dynamo.endpoint,
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    tablePrefix: path.basename(dir),
    ...extra,
  });

metaConformance({ name: 'dynamodb (dynalite)', persistent: true, create: (dir) => open(dir) });

// Again with a watcher poll faster than the suite's writes, so polled snapshots race with local changes.
metaConformance({ name: 'dynamodb (dynalite, polling fast)', persistent: true, create: (dir) => open(dir, { pollMs: 5 }) });
