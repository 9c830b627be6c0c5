/**
 * Fencing. Each broker holds one lease entry ('s3-leases', key `<bucket>/<prefix>/<brokerId>`); its version is the
 * leader epoch of everything the broker commits. Every write the engine makes is a transaction that first checks
 * that version, so whoever takes the broker's partitions away — a new process of the same broker, or the scheduler
 * moving them to another broker — bumps the entry and the old writer's next commit fails: a zombie cannot commit.
 * The check is one item however many partitions the broker leads, which keeps metadata writes per flush constant.
 */
import { randomBytes } from 'node:crypto';
import { isRobustMQError, RobustMQError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { MetaStore, TransactOp } from '../../meta/store.js';
import { isAbortMarker, type AbortMarker, type LeaseItem, type ObjectEntryValue, type ObjectItem } from './format.js';
import { backoffDelay, retrying, sleep } from './retry.js';

export class Fence {
  private version = 0;
  private lostLease = false;

  constructor(
    private readonly meta: MetaStore,
    readonly key: string,
    readonly brokerId: string,
  ) {}

  /** The lease version this engine writes under (its leader epoch). */
  get epoch(): number {
    return this.version;
  }

  get fenced(): boolean {
    return this.lostLease;
  }

  /** Takes the lease by bumping its version, which fences every earlier holder. */
  async acquire(deadline: number, signal: AbortSignal): Promise<void> {
    const value: LeaseItem = { brokerId: this.brokerId, holder: randomBytes(8).toString('hex'), acquiredAt: Date.now() };
    const entry = await retrying(() => this.meta.put('s3-leases', this.key, value), { deadline, signal });
    this.version = entry.version;
  }

  /** Runs `ops` only if this engine still holds the lease; NOT_LEADER when it has lost it. */
  async transact(ops: TransactOp[]): Promise<void> {
    if (this.lostLease) throw this.notLeader();
    try {
      await this.meta.transact([{ op: 'check', ns: 's3-leases', key: this.key, expectedVersion: this.version }, ...ops]);
    } catch (err) {
      if (isRobustMQError(err, 'CONFLICT') && (await this.checkLost())) throw this.notLeader();
      throw err;
    }
  }

  notLeader(): RobustMQError {
    return new RobustMQError('NOT_LEADER', `broker "${this.brokerId}" no longer holds its S3 write lease (epoch ${this.version})`);
  }

  private async checkLost(): Promise<boolean> {
    const entry = await this.meta.get('s3-leases', this.key);
    if (!entry || entry.version !== this.version) this.lostLease = true;
    return this.lostLease;
  }
}

export type CommitOutcome = 'committed' | 'fenced' | 'failed';

/** Errors after which the write certainly did not happen and retrying cannot help. */
const DEFINITE = new Set(['INVALID_ARGUMENT', 'CLOSED']);

/**
 * Commits an object: one transaction of the lease check and the object's entry (which must not exist yet).
 * 'failed' means certainly not committed, so the caller may reuse the offsets. When the outcome is unknown (a
 * timeout: the write may still land), an abort marker is written under the same key until one of the two wins;
 * only then is the answer given. That wait ends only when the MetaStore answers or the engine closes.
 */
export async function commitObject(
  fence: Fence,
  meta: MetaStore,
  metaKey: string,
  item: ObjectItem,
  signal: AbortSignal,
  log?: Logger,
): Promise<CommitOutcome> {
  try {
    await fence.transact([{ op: 'put', ns: 's3-objects', key: metaKey, value: item, expectedVersion: 0 }]);
    return 'committed';
  } catch (err) {
    if (isRobustMQError(err, 'NOT_LEADER')) return 'fenced';
    if (isRobustMQError(err, 'CONFLICT')) return 'failed';
    if (isRobustMQError(err) && DEFINITE.has(err.code)) throw err;
    log?.warn({ err, metaKey }, 'S3 object commit outcome unknown; settling it');
    return settleUnknown(meta, metaKey, signal);
  }
}

async function settleUnknown(meta: MetaStore, metaKey: string, signal: AbortSignal): Promise<CommitOutcome> {
  const marker: AbortMarker = { v: 2, aborted: true, createdAt: Date.now() };
  for (let attempt = 0; ; attempt++) {
    try {
      await meta.put('s3-objects', metaKey, marker, { expectedVersion: 0 });
      return 'failed';
    } catch (err) {
      if (isRobustMQError(err, 'CONFLICT')) {
        const entry = await meta.get<ObjectEntryValue>('s3-objects', metaKey).catch(() => undefined);
        if (entry) return isAbortMarker(entry.value) ? 'failed' : 'committed';
      }
    }
    if (signal.aborted) {
      throw new RobustMQError('STORAGE_UNAVAILABLE', 'the engine closed while an S3 commit outcome was unknown');
    }
    await sleep(backoffDelay(attempt, { capMs: 2000 }), signal);
  }
}
