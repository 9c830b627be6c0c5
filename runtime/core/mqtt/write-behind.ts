/**
 * Write-behind batching in front of the MetaStore: writes to the same key coalesce, and everything pending is
 * committed in one `transact` per turn of the event loop. `put`/`delete` resolve once their batch is durable, so a
 * caller that must not acknowledge before persistence (a QoS 1/2 message queued for an offline session) awaits it.
 */
import type { Logger } from '../../logger.js';
import type { MetaStore, Namespace, TransactOp } from '../../meta/store.js';

interface Pending {
  op: TransactOp;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/** Bounds of one transaction: DynamoDB's 100 items, and well under its 4 MB. */
const MAX_BATCH_OPS = 100;
const MAX_BATCH_BYTES = 3 * 1024 * 1024;

/** Approximate encoded size of an op (its JSON value plus key overhead). */
function opBytes(op: TransactOp): number {
  return op.key.length + 64 + (op.op === 'put' ? JSON.stringify(op.value).length : 0);
}

/** Splits pending writes into transactions within both bounds (an oversize single op goes alone). */
function batches(pending: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    const size = opBytes(p.op);
    if (current.length > 0 && (current.length === MAX_BATCH_OPS || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export class WriteBehind {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetaStore,
    private readonly log: Logger,
  ) {}

  put(ns: Namespace, key: string, value: unknown): Promise<void> {
    return this.enqueue({ op: 'put', ns, key, value });
  }

  delete(ns: Namespace, key: string): Promise<void> {
    return this.enqueue({ op: 'delete', ns, key });
  }

  /** Commits everything pending now (used at shutdown). */
  async flush(): Promise<void> {
    await this.commit();
    await this.inFlight;
  }

  private enqueue(op: TransactOp): Promise<void> {
    const id = `${op.ns}\u0000${op.key}`;
    return new Promise<void>((resolve, reject) => {
      const prev = this.pending.get(id);
      if (prev) {
        prev.op = op;
        prev.waiters.push({ resolve, reject });
      } else {
        this.pending.set(id, { op, waiters: [{ resolve, reject }] });
      }
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.commit());
      }
    });
  }

  private commit(): Promise<void> {
    this.scheduled = false;
    if (this.pending.size === 0) return this.inFlight;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    // Batches commit in order, so a later write to a key never lands before an earlier one.
    this.inFlight = this.inFlight.then(async () => {
      for (const slice of batches(batch)) {
        try {
          await this.meta.transact(slice.map((p) => p.op));
          for (const p of slice) for (const w of p.waiters) w.resolve();
        } catch (err) {
          this.log.error({ err }, 'mqtt: persisting session state failed');
          for (const p of slice) for (const w of p.waiters) w.reject(err);
        }
      }
    });
    return this.inFlight;
  }
}
