/**
 * Names of S3 objects and of the engine's MetaStore entries. Every MetaStore key starts with `<bucket>/<prefix>/`,
 * so several clusters (or tests) can share one meta table, and each listing is one prefix query.
 */
import { randomBytes } from 'node:crypto';

export class S3Keys {
  /** S3 key prefix of data objects. */
  readonly objectsPrefix: string;
  /** Meta key prefix of 's3-objects' entries. */
  readonly metaObjectsPrefix: string;
  /** Meta key prefix of 's3-partitions' entries. */
  readonly partitionsPrefix: string;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
  ) {
    this.objectsPrefix = `${prefix}/objects/`;
    this.metaObjectsPrefix = `${bucket}/${this.objectsPrefix}`;
    this.partitionsPrefix = `${bucket}/${prefix}/partitions/`;
  }

  /**
   * A fresh object key: `<prefix>/objects/<ms, 13 digits>-<random>`. The time first makes listings come out in
   * write order; the random part keeps two brokers (or two attempts of one flush) from ever sharing a key.
   */
  newObjectKey(now = Date.now()): string {
    return `${this.objectsPrefix}${String(now).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
  }

  /** The 's3-objects' meta key of an object. */
  metaObjectKey(objectKey: string): string {
    return `${this.bucket}/${objectKey}`;
  }

  /** The object key of an 's3-objects' meta key. */
  objectKeyOf(metaKey: string): string {
    return metaKey.slice(this.bucket.length + 1);
  }

  /** The 's3-partitions' meta key of a partition (topic names cannot make two keys collide: the number is last). */
  partitionKey(topic: string, partition: number): string {
    return `${this.partitionsPrefix}${topic}/${partition}`;
  }

  /** The 's3-leases' meta key of a broker. */
  leaseKey(brokerId: string): string {
    return `${this.bucket}/${this.prefix}/${brokerId}`;
  }
}

/** Map key of a partition inside one process. */
export function partitionMapKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
