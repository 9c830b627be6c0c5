/**
 * The S3 calls the engine makes, each attempt bounded by its own timeout. Reads, lists and deletes retry inside
 * (backoff with jitter until a deadline); a PUT is one attempt, because the flusher rebuilds the object between
 * attempts (appends whose producers gave up are left out of the retry).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { httpStatusOf, isRetriable, retrying, type RetryOptions } from './retry.js';

export interface ObjectStoreStats {
  puts: number;
  gets: number;
  lists: number;
  deletes: number;
  /** Attempts that failed and were (or could have been) retried. */
  failures: number;
  bytesPut: number;
  bytesGot: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
}

export interface ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Timeout of one attempt, plus 1 ms per KiB of payload (so an 8 MiB PUT may take 8 s more). */
  readonly requestTimeoutMs: number;
  /** Aborts in-flight attempts and stops retries when the engine closes. */
  readonly signal: AbortSignal;
  readonly log?: Logger;
}

export class ObjectStore {
  readonly stats: ObjectStoreStats = { puts: 0, gets: 0, lists: 0, deletes: 0, failures: 0, bytesPut: 0, bytesGot: 0 };

  constructor(private readonly o: ObjectStoreOptions) {}

  /** One PUT attempt. Rejects with the SDK error; `isRetriable` tells whether another attempt may help. */
  async putOnce(key: string, body: Buffer): Promise<void> {
    this.stats.puts++;
    try {
      await this.o.client.send(
        new PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: body, ContentLength: body.length }),
        { abortSignal: this.attemptSignal(body.length) },
      );
      this.stats.bytesPut += body.length;
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
  }

  /** `size` bytes of `key` from `position` (one byte-range GET, retried until `deadline`). */
  async getRange(key: string, position: number, size: number, deadline: number): Promise<Buffer> {
    return this.retry(`GET ${key}`, deadline, async () => {
      this.stats.gets++;
      const res = await this.o.client.send(
        new GetObjectCommand({ Bucket: this.o.bucket, Key: key, Range: `bytes=${position}-${position + size - 1}` }),
        { abortSignal: this.attemptSignal(size) },
      );
      const bytes = await res.Body!.transformToByteArray();
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (buf.length !== size) {
        throw Object.assign(new Error(`GET ${key} returned ${buf.length} bytes, expected ${size}`), { name: 'TimeoutError' });
      }
      this.stats.bytesGot += size;
      return buf;
    });
  }

  /** Every object under `prefix`, one LIST page at a time. */
  async *list(prefix: string, deadlineMs: number): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    do {
      const page = await this.retry(`LIST ${prefix}`, Date.now() + deadlineMs, async () => {
        this.stats.lists++;
        return this.o.client.send(
          new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix, ContinuationToken: token }),
          { abortSignal: this.attemptSignal(0) },
        );
      });
      yield (page.Contents ?? []).map((c) => ({ key: c.Key!, size: c.Size ?? 0, lastModified: c.LastModified?.getTime() ?? 0 }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes `key`; deleting a missing key succeeds (S3 semantics). */
  async delete(key: string, deadline: number): Promise<void> {
    await this.retry(`DELETE ${key}`, deadline, async () => {
      this.stats.deletes++;
      await this.o.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }), { abortSignal: this.attemptSignal(0) });
    });
  }

  private attemptSignal(bytes: number): AbortSignal {
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs + Math.ceil(bytes / 1024));
    return AbortSignal.any([timeout, this.o.signal]);
  }

  private async retry<T>(what: string, deadline: number, fn: () => Promise<T>): Promise<T> {
    const options: RetryOptions = {
      deadline,
      signal: this.o.signal,
      onRetry: (err, attempt, delayMs) => {
        this.stats.failures++;
        this.o.log?.debug({ err, attempt, delayMs }, `${what} failed, retrying`);
      },
    };
    try {
      return await retrying(fn, options);
    } catch (err) {
      throw unavailable(what, err);
    }
  }
}

/** The retriable error producers and consumers see when S3 does not answer in time. */
export function unavailable(what: string, err: unknown): RobustMQError {
  if (err instanceof RobustMQError) return err;
  const status = httpStatusOf(err);
  const name = (err as Error | null)?.name ?? 'Error';
  const detail = status === undefined ? name : `${name} (HTTP ${status})`;
  return new RobustMQError('STORAGE_UNAVAILABLE', `S3 ${what} failed: ${detail}`, { cause: err, retriable: isRetriable(err) });
}
