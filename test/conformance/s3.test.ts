import { afterAll, beforeAll } from 'vitest';
import { INTERNAL_ERROR, SLOW_DOWN, startFaultProxy, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';
import { openTestEngine, startS3rver, type TestS3 } from '../helpers/s3rver.js';
import { storageConformance } from './storage-suite.js';

let s3: TestS3;
let proxy: FaultProxy;
beforeAll(async () => {
  s3 = await startS3rver();
  proxy = await startFaultProxy({ port: s3.port });
  // One S3 request in five fails: throttled, a server error, or the connection reset before or after it took effect.
  const faults: Fault[] = [SLOW_DOWN, INTERNAL_ERROR, { type: 'reset' }, { type: 'reset-after' }];
  proxy.rule = () => (Math.random() < 0.2 ? faults[Math.floor(Math.random() * faults.length)] : undefined);
});
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
});

// A short flush interval: each awaited append waits for its own object, as a producer with acks would.
storageConformance({ name: 's3 (s3rver)', persistent: true, create: (dir) => openTestEngine(dir, s3, { flushMs: 5 }) });

// The same promises hold while S3 misbehaves: the engine retries, callers see no difference but time. No read
// cache here, so every read is a ranged GET through the faulty network too.
storageConformance({
  name: 's3 (s3rver behind a faulty network, no cache)',
  persistent: true,
  create: (dir) => openTestEngine(dir, { ...s3, clientOptions: { ...s3.clientOptions, endpoint: proxy.endpoint } }, { flushMs: 5, cacheBytes: 1 }),
});
