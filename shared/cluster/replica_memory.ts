/**
 * {@linkcode ReplicaMemory}: what a shard replica remembers for the cache
 * operations, beside its store: the results of recent operations by
 * request id (so that a retry, here or on another replica after a
 * failover, is answered and not applied again), the namespaces flushed
 * recently with their versions (so that no older write, and no join copy,
 * brings a flushed key back), and the highest version it has met (so that
 * a flush can be stamped above every write acknowledged before it).
 *
 * Both tables are bounded, in count and in time: a result or a flush is
 * remembered for {@linkcode RECENT_MS}, as long as a tombstone.
 *
 * @module
 */
import { HybridLogicalClock } from "./hlc.ts";
import { namespacePrefix, prefixOf } from "../store/namespace_flushes.ts";
import { TOMBSTONE_TTL_MS } from "../store/store.ts";
import type {
  NamespaceFlush,
  OperationResult,
  RecentResult,
} from "./apply_messages.ts";

/** How long a result or a flush is remembered, in ms: as long as a tombstone. */
export const RECENT_MS = TOMBSTONE_TTL_MS;
/** How many results are remembered at most (the oldest are forgotten first). */
export const MAX_RECENT_RESULTS = 100_000;
/** How many flushed namespaces are remembered at most. */
export const MAX_RECENT_FLUSHES = 4096;

interface Remembered<T> {
  value: T;
  until: number;
}

/**
 * A replica's recent results, flushes and highest version.
 *
 * @example
 * ```ts
 * const memory = new ReplicaMemory();
 * memory.flush("ns", 100);
 * memory.floor("2:ns:key"); // 100: a write of it must be above
 * ```
 */
export class ReplicaMemory {
  /** Issues the versions of the writes this replica decides. */
  readonly clock: HybridLogicalClock;
  readonly #now: () => number;
  readonly #results = new Map<string, Remembered<OperationResult>>();
  readonly #flushes = new Map<string, Remembered<NamespaceFlush>>();
  #highest = 0;

  /**
   * @param now The wall clock in ms, for the clock and for forgetting.
   * @default Date.now
   * @param node The clock's tag (see `hlc.ts`). @default a random one
   */
  constructor(now: () => number = Date.now, node?: number) {
    this.#now = now;
    this.clock = new HybridLogicalClock(now, node);
  }

  /** The highest version met so far. */
  get highest(): number {
    return this.#highest;
  }

  /** Meets a version: later decisions are stamped above it. */
  observe(version: number): void {
    if (version > this.#highest) this.#highest = version;
    this.clock.observe(version);
  }

  /** A version for a decision, above every version met. */
  next(): number {
    const version = this.clock.next();
    this.#highest = version;
    return version;
  }

  /** The result remembered for a request id. */
  result(requestId: string): OperationResult | undefined {
    const held = this.#results.get(requestId);
    if (held === undefined) return undefined;
    if (held.until > this.#now()) return held.value;
    this.#results.delete(requestId);
    return undefined;
  }

  /** Remembers what a request id answered (replacing an earlier answer). */
  remember(requestId: string, result: OperationResult, ttlMs = RECENT_MS) {
    this.#results.delete(requestId);
    this.#results.set(requestId, { value: result, until: this.#now() + ttlMs });
    forgetOld(this.#results, MAX_RECENT_RESULTS, this.#now());
  }

  /**
   * Remembers a flush of `namespace` at `version` (the higher of two
   * flushes of one namespace wins), and meets its version.
   */
  flush(namespace: string, version: number, ttlMs = RECENT_MS): void {
    this.observe(version);
    const prefix = namespacePrefix(namespace);
    const held = this.#flushes.get(prefix);
    if (held !== undefined && held.value.version >= version) return;
    this.#flushes.delete(prefix);
    this.#flushes.set(prefix, {
      value: { namespace, version, ttlMs: 0 },
      until: this.#now() + ttlMs,
    });
    forgetOld(this.#flushes, MAX_RECENT_FLUSHES, this.#now());
  }

  /**
   * The version a write of `key` must be above to apply: that of its
   * namespace's last remembered flush, or 0. Meets `version`, the write's:
   * every versioned write a replica takes passes here.
   */
  floor(key: string, version = 0): number {
    if (version > this.#highest) this.observe(version);
    if (this.#flushes.size === 0) return 0;
    const held = this.#flushes.get(prefixOf(key));
    if (held === undefined) return 0;
    if (held.until > this.#now()) return held.value.version;
    this.#flushes.delete(prefixOf(key));
    return 0;
  }

  /** The flushes remembered, each with how much longer it is. */
  flushes(): NamespaceFlush[] {
    const now = this.#now();
    forgetOld(this.#flushes, MAX_RECENT_FLUSHES, now);
    return [...this.#flushes.values()].map(({ value, until }) => ({
      ...value,
      ttlMs: until - now,
    }));
  }

  /** The results remembered, oldest first. */
  results(): RecentResult[] {
    forgetOld(this.#results, MAX_RECENT_RESULTS, this.#now());
    return [...this.#results].map(([requestId, { value }]) => ({
      requestId,
      result: value,
    }));
  }
}

/**
 * Drops the oldest entries of an insertion-ordered map: those past their
 * time, and any over `max`.
 */
function forgetOld<T>(
  map: Map<string, Remembered<T>>,
  max: number,
  now: number,
): void {
  for (const [key, { until }] of map) {
    if (until > now && map.size <= max) return;
    map.delete(key);
  }
}
