/**
 * The read-modify-write operations of a shard worker: counters, conditional
 * writes, touch, multi-delete and namespace flush. A shard worker is one
 * thread that applies a batch of operations synchronously, so each of these
 * is atomic per key: nothing else touches the store between its read and
 * its write.
 *
 * Every write gets a version from {@linkcode CacheOps.stamp}, increasing
 * per shard (and seeded from the wall clock, so a restarted worker's
 * versions stay above those it handed out before); 0 means absent. A
 * cluster's deciding replica runs the same operations with versions from
 * its hybrid logical clock (`shared/cluster/apply_steps.ts`).
 *
 * @module
 */
import { AbortedError, AlreadyExistsError } from "../wire/errors.ts";
import { FailedPreconditionError } from "../wire/errors.ts";
import {
  checkInt64,
  decodeInt64Bytes,
  encodeInt64Bytes,
  INT64_VALUE_TYPE_URL,
} from "../wire/int64_bytes.ts";
import type { SetCondition, ShardWrite, WriteList } from "../wire/shard.ts";
import type { ShardStore } from "../store/store.ts";

/** A shard's store with versioned writes and the operations built on them. */
export class CacheOps {
  /** The store the operations apply to. */
  readonly store: ShardStore;
  readonly #now: () => number;
  #last = 0;

  /**
   * @param store The shard's store.
   * @param now The wall clock in ms, which seeds versions.
   */
  constructor(store: ShardStore, now: () => number = Date.now) {
    this.store = store;
    this.#now = now;
  }

  /** A new version, above every one this shard handed out. */
  stamp(): number {
    this.#last = Math.max(this.#last + 1, this.#now() * 1000);
    return this.#last;
  }

  /** Writes a key with a new version; returns it. */
  set(write: ShardWrite): number {
    write.version = this.stamp();
    return this.store.set(write);
  }

  /**
   * Writes keys, each with a new version (all or none, as the store does).
   * A write is stamped each time the store visits it: the store's size
   * check visits first and takes stamps of its own, which is harmless, as
   * versions only need to grow.
   */
  setMany(writes: WriteList): void {
    this.store.setMany({
      forEach: (visit) =>
        writes.forEach((write) => {
          write.version = this.stamp();
          visit(write);
        }),
    });
  }

  /**
   * Writes a key if `condition` holds; returns the new version.
   *
   * @throws {AlreadyExistsError} with `onlyIfAbsent`, when the key is there.
   * @throws {AbortedError} with `ifVersion`, when the key holds another
   * version (0: the key must be absent).
   */
  setIf(write: ShardWrite, condition: SetCondition): number {
    const held = this.store.peek(write.key)?.version ?? 0;
    if (condition.onlyIfAbsent && held !== 0) {
      throw new AlreadyExistsError("the key is present");
    }
    const expected = condition.ifVersion;
    if (expected !== undefined && expected !== held) {
      throw new AbortedError(
        `the key holds version ${held}, not ${expected}`,
      );
    }
    return this.set(write);
  }

  /**
   * Adds `delta` to the int64 a key holds (a missing key holds 0) and
   * returns the sum. `ttlMs` > 0 sets the key's time to live; 0 keeps the
   * one it has (a new key then never expires).
   *
   * @throws {FailedPreconditionError} when the key holds another type.
   * @throws {OutOfRangeError} when the sum is past the int64 range.
   */
  increment(key: string, delta: bigint, ttlMs: number): bigint {
    const held = this.store.peek(key);
    let current = 0n;
    if (held !== undefined) {
      if (held.typeUrl !== INT64_VALUE_TYPE_URL) {
        throw new FailedPreconditionError(
          `the key holds a ${
            held.typeUrl || "value with no type URL"
          }, not a google.protobuf.Int64Value`,
        );
      }
      current = decodeInt64Bytes(held.value);
    }
    const sum = checkInt64(current + delta, `${current} + ${delta}`);
    this.set({
      key,
      value: { typeUrl: INT64_VALUE_TYPE_URL, value: encodeInt64Bytes(sum) },
      ttlMs: ttlMs > 0
        ? ttlMs
        : held === undefined
        ? 0
        : this.store.ttl(key) ?? 0,
    });
    return sum;
  }

  /** Removes keys; per key, whether it was there. */
  deleteMany(keys: string[]): boolean[] {
    return keys.map((key) => this.store.delete(key));
  }

  /** Hides every key of a namespace written before now (no per-key work). */
  flushNamespace(namespace: string): void {
    this.store.flushNamespace(namespace, this.stamp());
  }
}
