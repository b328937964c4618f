/**
 * The `Shard` interface: what the router needs from a place that holds part
 * of the key space, whether a local Web Worker or (later) a remote process.
 *
 * @module
 */
import type { AnyValue, ShardCounters } from "./messages.ts";

/** One write: a cache key, its value and its time to live. */
export interface ShardWrite {
  /** The cache key (see `cacheKey`). */
  key: string;
  /** The value, stored byte for byte. */
  value: AnyValue;
  /** Milliseconds to live; 0 means no expiry. */
  ttlMs: number;
  /**
   * The write's version (see `shared/cluster/hlc.ts`). A replica keeps the
   * newest version of a key; writes without one (local workers) always
   * apply.
   */
  version?: number;
  /**
   * Marks a delete: the store keeps a tombstone of this version (no value)
   * so that an older write cannot bring the key back. `value` is ignored.
   */
  tombstone?: boolean;
}

/**
 * Writes that a store visits one at a time: an array, or a run of packed
 * writes (see `write_packing.ts`). A visited write may be reused for the
 * next one: keep nothing of it but copies.
 */
export interface WriteList {
  /** Calls `visit` with each write, in order. */
  forEach(visit: (write: ShardWrite) => void): void;
}

/** A value as a shard holds it: the `Any` and the version that wrote it. */
export interface StoredValue extends AnyValue {
  /** The version of the write that stored it, when it had one. */
  version?: number;
}

/** What a conditional write requires of the key it writes. */
export interface SetCondition {
  /** The key must be absent (else ALREADY_EXISTS). */
  onlyIfAbsent: boolean;
  /** The key must hold this version, 0 for absent (else ABORTED). */
  ifVersion?: number;
}

/** A holder of part of the key space. Every method may reject with a `GanacheError`. */
export interface Shard {
  /** Where the shard lives, for Stats and logs (e.g. `worker`). */
  readonly location: string;
  /** How many times the shard was restarted after a crash. */
  readonly restarts: number;
  /** Reads one key (with its version, where it has one); `undefined` on a miss. */
  get(key: string): Promise<StoredValue | undefined>;
  /** Reads many keys; the result has one slot per key, in order. */
  getMany(keys: string[]): Promise<(StoredValue | undefined)[]>;
  /** Writes one key. */
  set(write: ShardWrite): Promise<void>;
  /** Writes many keys, in order. */
  setMany(writes: ShardWrite[]): Promise<void>;
  /** Removes one key and tells whether it was there. */
  delete(key: string): Promise<boolean>;
  /** Milliseconds left to live: 0 for no expiry, `undefined` on a miss. */
  ttl(key: string): Promise<number | undefined>;
  /** The shard's counters. */
  stats(): Promise<ShardCounters>;
  /** Stops the shard; pending calls reject. */
  close(): Promise<void>;
}

/**
 * The read-modify-write operations of a shard (see
 * `shared/shards/cache_ops.ts`), each atomic per key. Every method may
 * reject with a `GanacheError`.
 */
export interface CacheOpsShard {
  /** Writes a key if `condition` holds; resolves with its new version. */
  setIf(write: ShardWrite, condition: SetCondition): Promise<number>;
  /** Adds `delta` to a key's int64 and resolves with the sum. */
  increment(key: string, delta: bigint, ttlMs: number): Promise<bigint>;
  /** Sets a key's time to live (0: none); resolves with whether it was there. */
  touch(key: string, ttlMs: number): Promise<boolean>;
  /** Removes keys; per key, whether it was there. */
  deleteMany(keys: string[]): Promise<boolean[]>;
  /** Hides every key of a namespace written so far. */
  flushNamespace(namespace: string): Promise<void>;
}

/** Whether a shard offers the {@linkcode CacheOpsShard} operations. */
export function hasCacheOps(shard: Shard): shard is Shard & CacheOpsShard {
  return typeof (shard as Partial<CacheOpsShard>).increment === "function";
}
