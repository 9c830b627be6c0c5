/**
 * Group commit: writes that arrive while a batch is being written and synced wait together and share the next
 * write + sync, so N concurrent writers cost about one fsync per round instead of N.
 *
 * The sink takes the payloads of one batch. It is called synchronously at the moment the batch is taken, which
 * lets the store decide in that same tick to write a snapshot instead (the in-memory state then equals exactly
 * the durable state plus this batch).
 *
 * After a failed write the committer is broken for good: the in-memory state may hold writes that never reached
 * the disk, so every pending and later submission rejects with the original error.
 */
export type BatchSink = (payloads: Buffer[]) => Promise<void>;

interface Batch {
  payloads: Buffer[];
  lastSeq: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private next: Batch | undefined;
  private running = false;
  private seq = 0;
  private idleWaiters: (() => void)[] = [];
  /** Highest sequence number known to be durable. */
  durableSeq = 0;
  failure: unknown = undefined;
  /** Number of write+sync rounds so far (exposed for tests and metrics). */
  rounds = 0;

  constructor(private readonly sink: BatchSink) {}

  /** Queues `payload`; `done` resolves once it is durable. */
  submit(payload: Buffer): { seq: number; done: Promise<void> } {
    if (this.failure !== undefined) return { seq: ++this.seq, done: Promise.reject(this.failure) };
    const batch = (this.next ??= newBatch());
    batch.payloads.push(payload);
    batch.lastSeq = ++this.seq;
    if (!this.running) {
      this.running = true;
      // Start on a microtask so writes issued in the same tick land in the first batch together.
      queueMicrotask(() => void this.run());
    }
    return { seq: batch.lastSeq, done: batch.done };
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    while (this.next !== undefined) {
      const batch = this.next;
      this.next = undefined;
      try {
        await this.sink(batch.payloads);
        this.rounds++;
        this.durableSeq = batch.lastSeq;
        batch.resolve();
      } catch (err) {
        this.failure = err;
        batch.reject(err);
        // Submissions that queued up meanwhile can never be written either.
        (this.next as Batch | undefined)?.reject(err);
        this.next = undefined;
      }
    }
    this.running = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every submitter awaits `done`; this keeps a batch nobody is left waiting on from raising unhandledRejection.
  done.catch(() => undefined);
  return { payloads: [], lastSeq: 0, done, resolve, reject };
}
