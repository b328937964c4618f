/**
 * {@linkcode PipelinedBatcher}: batches calls to one remote replica set,
 * with at most a few batches in flight; items that arrive meanwhile wait
 * and travel together in the next batch. Under load, batches grow instead
 * of calls multiplying: every call costs the frontend and the shard about
 * as much CPU as a hundred keys in it.
 *
 * @module
 */
import { runBatch } from "../shards/batcher.ts";

/**
 * Like the per-turn `Batcher` (`shared/shards/batcher.ts`), but a batch is
 * sent only while fewer than `maxInFlight` are out.
 *
 * @example
 * ```ts
 * const gets = new PipelinedBatcher((keys: string[]) => fetchMany(keys));
 * await Promise.all(keys.map((key) => gets.add(key)));
 * ```
 */
export class PipelinedBatcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxItems: number;
  readonly #maxInFlight: number;
  #items: I[] = [];
  #waiters: PromiseWithResolvers<O>[] = [];
  #inFlight = 0;
  #scheduled = false;

  /**
   * @param run Processes a batch; resolves with one output per item, in order.
   * @param maxItems The largest batch.
   * @param maxInFlight Batches out at once.
   * @default 2
   */
  constructor(
    run: (items: I[]) => Promise<O[]>,
    maxItems = Infinity,
    maxInFlight = 2,
  ) {
    this.#run = run;
    this.#maxItems = maxItems;
    this.#maxInFlight = maxInFlight;
  }

  /** Adds an item to the next batch; resolves with its output. */
  add(item: I): Promise<O> {
    const waiter = Promise.withResolvers<O>();
    this.#items.push(item);
    this.#waiters.push(waiter);
    if (!this.#scheduled && this.#inFlight < this.#maxInFlight) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
    return waiter.promise;
  }

  #flush(): void {
    while (this.#items.length > 0 && this.#inFlight < this.#maxInFlight) {
      const items = this.#items.splice(0, this.#maxItems);
      const waiters = this.#waiters.splice(0, items.length);
      this.#inFlight++;
      runBatch(this.#run, items, waiters).finally(() => {
        this.#inFlight--;
        this.#flush();
      });
    }
  }
}
