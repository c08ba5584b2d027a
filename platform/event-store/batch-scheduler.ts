/** Limits of group commit. */
export interface BatchLimits {
  /** Items in one batch, at most. 1 turns batching off. */
  maxBatch: number;
  /** Batches in flight at once. */
  concurrency: number;
  /**
   * While a batch is in flight, another starts only once this many items wait; fewer wait
   * for it and then go together (rather than paying a transaction's round trips for one or two).
   */
  joinBelow: number;
}

/**
 * Group commit's queue: items wait and leave in batches of at most `maxBatch`, at most one
 * item per key (a stream) per batch and none for a key whose batch is still running, with
 * at most `concurrency` batches in flight. Knows nothing of stores or commands.
 */
export class BatchScheduler<T> {
  private readonly queue: T[] = [];
  private readonly busy = new Set<string>();
  private inFlight = 0;

  private readonly limits: BatchLimits;
  private readonly keyOf: (item: T) => string;
  private readonly run: (batch: T[]) => Promise<void>;

  constructor(
    limits: BatchLimits,
    keyOf: (item: T) => string,
    run: (batch: T[]) => Promise<void>,
  ) {
    this.limits = limits;
    this.keyOf = keyOf;
    this.run = run;
  }

  /** Queues an item (at the front for a retry, so it keeps its place). */
  enqueue(item: T, front = false): void {
    if (front) this.queue.unshift(item);
    else this.queue.push(item);
    this.pump();
  }

  /** Items waiting, not in flight. */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    const { concurrency, joinBelow, maxBatch } = this.limits;
    while (this.inFlight < concurrency && this.queue.length > 0 && (this.inFlight === 0 || this.queue.length >= joinBelow)) {
      const batch: T[] = [];
      for (let i = 0; i < this.queue.length && batch.length < maxBatch; ) {
        const key = this.keyOf(this.queue[i]);
        if (this.busy.has(key)) {
          i++;
          continue;
        }
        this.busy.add(key);
        batch.push(this.queue[i]);
        this.queue.splice(i, 1);
      }
      if (batch.length === 0) return;
      this.inFlight++;
      void this.run(batch).finally(() => {
        for (const item of batch) this.busy.delete(this.keyOf(item));
        this.inFlight--;
        this.pump();
      });
    }
  }
}
