/**
 * {@linkcode Batcher}: gathers the items added during one turn of the event
 * loop and processes them with one call, so that many concurrent requests
 * cost one message (to a worker) or one RPC (to a remote shard).
 *
 * @module
 */

/**
 * Collects items until the current turn of the event loop ends (or
 * `maxItems` are waiting), then hands them to `run` together; each `add`
 * resolves with its own slot of the result.
 *
 * @example
 * ```ts
 * const batcher = new Batcher((keys: string[]) => fetchMany(keys));
 * const [a, b] = await Promise.all([batcher.add("a"), batcher.add("b")]); // one fetchMany call
 * ```
 */
export class Batcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxItems: number;
  #items: I[] = [];
  #waiters: PromiseWithResolvers<O>[] = [];

  /**
   * @param run Processes a batch; resolves with one output per item, in order.
   * @param maxItems The largest batch; a full batch is run at once.
   */
  constructor(run: (items: I[]) => Promise<O[]>, maxItems = Infinity) {
    this.#run = run;
    this.#maxItems = maxItems;
  }

  /** Adds an item to the current batch; resolves with its output. */
  add(item: I): Promise<O> {
    if (this.#items.length === 0) queueMicrotask(() => this.#flush());
    const waiter = Promise.withResolvers<O>();
    this.#items.push(item);
    this.#waiters.push(waiter);
    if (this.#items.length >= this.#maxItems) this.#flush();
    return waiter.promise;
  }

  #flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    runBatch(this.#run, items, waiters);
  }
}

/**
 * Runs one batch and settles each item's waiter with its output, or every
 * waiter with the batch's error (a `run` that throws rejects them too).
 *
 * @returns Settles once every waiter is settled; never rejects.
 */
export function runBatch<I, O>(
  run: (items: I[]) => Promise<O[]>,
  items: I[],
  waiters: PromiseWithResolvers<O>[],
): Promise<void> {
  let running: Promise<O[]>;
  try {
    running = run(items);
  } catch (error) {
    running = Promise.reject(error);
  }
  return running.then(
    (outputs) => waiters.forEach((w, i) => w.resolve(outputs[i]!)),
    (error) => waiters.forEach((w) => w.reject(error)),
  );
}
