/** A FIFO queue with O(1) push and shift (a growable ring buffer); session queues are drained one message at a time. */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** Removes the first item matching `pred` (O(n), for the rare eviction at the queue limit). */
  removeFirst(pred: (item: T) => boolean): boolean {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.count; i++) {
      const idx = (this.head + i) & mask;
      if (!pred(this.items[idx] as T)) continue;
      for (let j = i; j < this.count - 1; j++) {
        this.items[(this.head + j) & mask] = this.items[(this.head + j + 1) & mask];
      }
      this.items[(this.head + this.count - 1) & mask] = undefined;
      this.count--;
      return true;
    }
    return false;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & mask] as T;
  }

  /** Keeps only the items matching `pred`, in order. */
  filter(pred: (item: T) => boolean): void {
    const kept = [...this].filter(pred);
    this.clear();
    for (const item of kept) this.push(item);
  }

  clear(): void {
    this.items = new Array(16);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
