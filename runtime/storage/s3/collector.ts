/**
 * Garbage collection of objects. Retention, DeleteRecords and dropped partitions make ranges dead; an object goes
 * once every range in it is dead — whole objects only, S3 has no partial delete. Its entry is removed first (a
 * fenced transaction), its bytes some seconds later, so reads already under way still find them.
 *
 * Orphans are objects without an entry: a PUT whose commit failed, an attempt abandoned on a timeout, objects
 * replaced by compaction whose delayed delete a crash interrupted. They are deleted once older than the grace
 * period, which must exceed the longest commit (a commit still under way would otherwise lose its object).
 */
import { isRobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore } from '../../meta/store.js';
import type { Catalog, CatalogObject } from './catalog.js';
import type { Fence } from './fence.js';
import { isAbortMarker, type ObjectEntryValue } from './format.js';
import type { S3Keys } from './keys.js';
import type { ObjectStore } from './object-store.js';

export interface CollectorOptions {
  readonly meta: MetaStore;
  readonly fence: Fence;
  readonly store: ObjectStore;
  readonly keys: S3Keys;
  readonly catalog: Catalog;
  /** Delay between removing an object's entry and deleting its bytes. */
  readonly deleteDelayMs: number;
  /** Objects without an entry are deleted once older than this. */
  readonly orphanGraceMs: number;
  readonly requestDeadlineMs: number;
  readonly log?: Logger;
}

/** Entries removed per transaction (DynamoDB TransactWriteItems takes 100 items; the lease check is one). */
const DELETE_CHUNK = 50;

export interface CollectorStats {
  objectsCollected: number;
  orphansDeleted: number;
}

export class Collector {
  readonly stats: CollectorStats = { objectsCollected: 0, orphansDeleted: 0 };
  /** Object key → epoch ms its bytes may be deleted. */
  private readonly pendingDeletes = new Map<string, number>();

  constructor(private readonly o: CollectorOptions) {}

  isPendingDelete(objectKey: string): boolean {
    return this.pendingDeletes.has(objectKey);
  }

  scheduleDelete(objectKey: string, now = Date.now()): void {
    this.pendingDeletes.set(objectKey, now + this.o.deleteDelayMs);
  }

  /**
   * Removes the entries of objects whose every range is dead, and schedules their bytes for deletion. Partition
   * states are listed again first, so partitions led elsewhere are judged by their current log start.
   */
  async collectDead(open: ReadonlySet<string>, now = Date.now()): Promise<number> {
    await this.o.catalog.refreshStates(open);
    const dead = [...this.o.catalog.objects.values()].filter((obj) => obj.ranges.every((r) => this.o.catalog.isDead(r)));
    let collected = 0;
    for (let i = 0; i < dead.length; i += DELETE_CHUNK) {
      const chunk = dead.slice(i, i + DELETE_CHUNK);
      try {
        await this.removeEntries(chunk);
      } catch (err) {
        if (!isRobustMQError(err, 'CONFLICT')) throw err;
        // Someone else removed one of them: settle each on its own.
        for (const obj of chunk) await this.removeEntries([obj]).catch((e: unknown) => this.forgetIfGone(obj, e));
      }
      for (const obj of chunk) {
        if (this.o.catalog.objects.has(obj.key)) continue;
        this.scheduleDelete(obj.key, now);
        collected++;
      }
    }
    this.stats.objectsCollected += collected;
    return collected;
  }

  /** Deletes the bytes of objects whose delay has passed. */
  async deleteDue(now = Date.now()): Promise<void> {
    for (const [key, at] of this.pendingDeletes) {
      if (at > now) continue;
      await this.o.store.delete(key, now + this.o.requestDeadlineMs);
      this.pendingDeletes.delete(key);
    }
  }

  /** Deletes objects older than the grace period that have no entry, and old abort markers with their objects. */
  async sweepOrphans(now = Date.now()): Promise<number> {
    const entries = await this.o.meta.list<ObjectEntryValue>('s3-objects', this.o.keys.metaObjectsPrefix);
    const committed = new Set(entries.map((e) => this.o.keys.objectKeyOf(e.key)));
    const cutoff = now - this.o.orphanGraceMs;
    let deleted = 0;
    for await (const page of this.o.store.list(this.o.keys.objectsPrefix, this.o.requestDeadlineMs)) {
      for (const obj of page) {
        if (committed.has(obj.key) || this.pendingDeletes.has(obj.key) || obj.lastModified > cutoff) continue;
        await this.o.store.delete(obj.key, now + this.o.requestDeadlineMs);
        deleted++;
      }
    }
    for (const entry of entries) {
      if (!isAbortMarker(entry.value) || entry.value.createdAt > cutoff) continue;
      await this.o.store.delete(this.o.keys.objectKeyOf(entry.key), now + this.o.requestDeadlineMs);
      await this.o.meta.delete('s3-objects', entry.key, { expectedVersion: entry.version }).catch(() => false);
      deleted++;
    }
    this.stats.orphansDeleted += deleted;
    if (deleted > 0) this.o.log?.info({ deleted }, 'deleted orphaned S3 objects');
    return deleted;
  }

  private async removeEntries(objects: CatalogObject[]): Promise<void> {
    await this.o.fence.transact(
      objects.map((obj) => ({ op: 'delete' as const, ns: 's3-objects' as const, key: obj.metaKey, expectedVersion: obj.version })),
    );
    for (const obj of objects) this.o.catalog.remove(obj.key);
  }

  private async forgetIfGone(obj: CatalogObject, err: unknown): Promise<void> {
    if (!isRobustMQError(err, 'CONFLICT')) throw err;
    const entry = await this.o.meta.get('s3-objects', obj.metaKey);
    if (!entry || entry.version !== obj.version) this.o.catalog.remove(obj.key);
  }
}
