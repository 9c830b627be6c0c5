/** An in-process S3 server (s3rver) on an ephemeral loopback port, with a temp directory it removes on close. */
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EmbeddedMetaStore } from '../../runtime/meta/embedded/store.js';
import { S3StorageEngine, type S3EngineOptions } from '../../runtime/storage/s3/engine.js';
import { tempDir } from './batches.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

// The SDK warns once per process that Node 20 support ends in 2027; that is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** s3rver ships CommonJS without type declarations. */
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface TestS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** Options for the engine (or an S3Client) pointing at this server. */
  readonly clientOptions: {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  close(): Promise<void>;
}

export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3rver(bucket = 'robustmq-test'): Promise<TestS3> {
  const directory = await tempDir('robustmq-s3rver-');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    clientOptions: { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_TEST_CREDENTIALS },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** An S3 engine that owns its embedded meta store (in `<dir>/meta`) and closes it with itself. */
export class TestS3Engine extends S3StorageEngine {
  constructor(
    options: S3EngineOptions,
    readonly metaStore: EmbeddedMetaStore,
  ) {
    super(options);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.metaStore.close();
    }
  }
}

/**
 * Opens an S3 engine on `s3` whose meta lives in `<dir>/meta` and whose object prefix is named after `dir`, so
 * reopening with the same directory finds the same data. Maintenance timers are off unless asked for.
 */
export async function openTestEngine(dir: string, s3: TestS3, options: Partial<S3EngineOptions> = {}): Promise<TestS3Engine> {
  const meta = await EmbeddedMetaStore.open(path.join(dir, 'meta'));
  return new TestS3Engine(
    { bucket: s3.bucket, prefix: `t/${path.basename(dir)}`, ...s3.clientOptions, meta, flushMs: 10, maintenanceIntervalMs: 0, ...options },
    meta,
  );
}
