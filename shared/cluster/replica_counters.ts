/**
 * {@linkcode ReplicaCounters}: a shard's counters summed over its replica
 * processes so that the sums never decrease, for Prometheus `rate()`.
 *
 * @module
 */
import type { ShardCounters } from "../wire/messages.ts";

/** The counters that only grow within one process. */
export const MONOTONE = ["hits", "misses", "evictions", "expirations"] as const;

type Totals = Pick<ShardCounters, typeof MONOTONE[number]>;

/**
 * The last counters read from each replica process, kept after the process
 * leaves: a process's counters only grow, so the sum over every process
 * ever seen only grows too.
 *
 * @example
 * ```ts
 * const counters = new ReplicaCounters();
 * counters.record("10.0.0.1:40011 2026-11-29T10:00:00Z", stats);
 * counters.totals().hits; // summed over every process seen
 * ```
 */
export class ReplicaCounters {
  readonly #last = new Map<string, ShardCounters>();

  /**
   * Records a process's counters.
   *
   * @param process Names one process: its address and start time.
   */
  record(process: string, counters: ShardCounters): void {
    const last = this.#last.get(process);
    // Counters of one process never go back; a smaller one is a reply that
    // overtook a later one, and is ignored.
    if (last && MONOTONE.some((field) => counters[field] < last[field])) {
      return;
    }
    this.#last.set(process, counters);
  }

  /** The last counters recorded for a process. */
  last(process: string): ShardCounters | undefined {
    return this.#last.get(process);
  }

  /** The monotone counters summed over every process recorded. */
  totals(): Totals {
    const totals: Totals = { hits: 0, misses: 0, evictions: 0, expirations: 0 };
    for (const counters of this.#last.values()) {
      for (const field of MONOTONE) totals[field] += counters[field];
    }
    return totals;
  }
}
