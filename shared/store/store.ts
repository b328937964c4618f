/**
 * The byte-bounded LRU that one shard holds, with per-key TTL and
 * versions, kept outside the V8 heap: every entry is one chunk of an
 * {@linkcode Arena} (see `entries.ts` for its layout), found through a
 * {@linkcode KeyIndex}, and linked into a recency list through its own
 * header; type URLs are held once in a {@linkcode TypeUrlTable}. The budget
 * counts every byte the store spends: whole chunks (header, key, value,
 * alignment), the index, the type URL table and the table of flushed
 * namespaces (see `namespace_flushes.ts`; the internals are in
 * `store_base.ts`).
 *
 * A tombstone is a versioned delete: it holds no value, is invisible to
 * reads, and keeps an older write from bringing the key back until it
 * expires ({@linkcode TOMBSTONE_TTL_MS}) or is evicted.
 *
 * @module
 */
import type { ShardCounters } from "../wire/messages.ts";
import type { ShardWrite, StoredValue, WriteList } from "../wire/shard.ts";
import { ALIGN } from "./arena.ts";
import { namespacePrefix } from "./namespace_flushes.ts";
import { NO_VALUE, StoreBase } from "./store_base.ts";

export { type ShardStoreOptions, TOMBSTONE_TTL_MS } from "./store_base.ts";

/**
 * How often a shard's owner calls {@linkcode ShardStore.purgeExpired}, in
 * milliseconds: the worker of `start` and the `shard` role alike.
 */
export const PURGE_INTERVAL_MS = 1000;

/**
 * One shard's entries: least recently used ones are evicted to keep the
 * chunks, the index and the type URLs within `maxBytes`.
 *
 * @example
 * ```ts
 * const store = new ShardStore({ maxBytes: 1 << 20 });
 * store.set({ key: "1:ak", value: { typeUrl: "t", value: new Uint8Array([1]) }, ttlMs: 0 });
 * store.get("1:ak"); // { typeUrl: "t", value: Uint8Array [1] }
 * ```
 */
export class ShardStore extends StoreBase {
  /** Reads a key, counting a hit or a miss; expired keys are misses. */
  get(key: string): StoredValue | undefined {
    const ref = this.live(key);
    if (ref === 0 || this.entries.isTombstone(ref)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.touch(ref);
    return this.read(ref);
  }

  /**
   * Writes a key (or, with `tombstone`, its tombstone), evicting least
   * recently used entries to make room. A write with a version replaces
   * only an older one (see `write_order.ts`).
   *
   * @returns The version the key holds afterwards: the write's if it was
   * applied, the newer one held if not; 0 for an unversioned write.
   * @throws {ResourceExhaustedError} when the entry alone exceeds the budget.
   * @throws {InvalidArgumentError} when the key, type URL or value is longer
   * than an entry can hold.
   */
  set(write: ShardWrite): number {
    return this.put(write);
  }

  /**
   * Writes several keys, all or none: every size is checked first.
   *
   * @throws {ResourceExhaustedError} when any entry exceeds the budget.
   */
  setMany(writes: WriteList): void {
    writes.forEach((write) => this.checkSize(write));
    writes.forEach((write) => this.put(write));
  }

  /**
   * Removes a key; tells whether a value was there (and not expired). With
   * a version, the key keeps a tombstone of that version instead, unless it
   * holds a newer one (then nothing changes and the answer is false).
   */
  delete(key: string, version?: number): boolean {
    const ref = this.live(key);
    const existed = ref !== 0 && !this.entries.isTombstone(ref);
    if (version === undefined) {
      if (ref !== 0) this.remove(ref);
      return existed;
    }
    const write = { key, value: NO_VALUE, ttlMs: 0, version, tombstone: true };
    return this.put(write) === version && existed;
  }

  /** Milliseconds left to live: 0 for no expiry, `undefined` on a miss. */
  ttl(key: string): number | undefined {
    const ref = this.live(key);
    if (ref === 0 || this.entries.isTombstone(ref)) return undefined;
    return this.entries.ttlLeft(ref, this.now());
  }

  /** Reads a key without counting a hit or a miss or touching its recency. */
  peek(key: string): StoredValue | undefined {
    const ref = this.live(key);
    if (ref === 0 || this.entries.isTombstone(ref)) return undefined;
    return this.read(ref);
  }

  /**
   * Sets a key's time to live without rewriting it (0: no expiry); its
   * value and version stay. Tells whether the key was there.
   */
  touch(key: string, ttlMs: number): boolean {
    const ref = this.live(key);
    if (ref === 0 || this.entries.isTombstone(ref)) return false;
    if (this.entries.hasExpiry(ref)) {
      if (this.entries.expires(ref) !== 0) this.withTtl--;
      if (ttlMs > 0) this.withTtl++;
      this.entries.setExpires(ref, ttlMs > 0 ? this.now() + ttlMs : 0);
    } else if (ttlMs > 0) {
      // No expiry field to set: the entry is written again with one, its
      // value and version kept (this may evict the oldest entries).
      const { typeUrl, value } = this.read(ref);
      const version = this.entries.version(ref);
      this.put({ key, value: { typeUrl, value }, ttlMs, version }, true);
      return true;
    }
    this.entries.touch(ref);
    return true;
  }

  /**
   * Hides every entry of `namespace` whose version is not above `version`,
   * with no work per entry: one entry in a table of flushed namespaces
   * (see `namespace_flushes.ts`). The hidden entries stay charged until a
   * lookup, an eviction or the next {@linkcode purgeExpired} drops them.
   * When the table is full, that sweep runs first.
   */
  flushNamespace(namespace: string, version: number): void {
    if (this.flushes.full) this.sweepFlushed();
    this.counts.flushes++;
    this.flushes.flush(namespacePrefix(namespace), version);
    while (this.usedBytes() > this.capacity && this.entries.oldest !== 0) {
      this.evictOldest();
    }
  }

  /**
   * What the store's whole-store passes did: `flushes` counts
   * {@linkcode flushNamespace} calls, `visited` the entries that passes
   * over every entry looked at (purge, sweep, {@linkcode writes}),
   * `flushedAway` the hidden entries dropped so far.
   */
  work(): { flushes: number; visited: number; flushedAway: number } {
    return { ...this.counts };
  }

  /**
   * Drops expired entries and the entries flushed namespaces hide, so that
   * counts and bytes are current.
   */
  purgeExpired(): void {
    if (this.flushes.size !== 0) this.sweepFlushed();
    if (this.withTtl === 0) return;
    const now = this.now();
    for (let ref = this.entries.oldest; ref !== 0;) {
      const newer = this.entries.newerThan(ref);
      this.counts.visited++;
      if (this.entries.isExpired(ref, now)) this.expire(ref);
      ref = newer;
    }
  }

  /**
   * Every live entry and tombstone as a write that recreates it (remaining
   * TTL, version), least recently used first, so that loading them in
   * order keeps the recency order. Consume it without writing to the store
   * in between.
   */
  *writes(): Generator<ShardWrite> {
    const now = this.now();
    const entries = this.entries;
    for (let ref = entries.oldest; ref !== 0;) {
      const newer = entries.newerThan(ref);
      this.counts.visited++;
      const key = this.keyOf(ref);
      if (!entries.isExpired(ref, now) && !this.hidden(ref, key)) {
        yield this.#writeAt(ref, key, now);
      }
      ref = newer;
    }
  }

  /**
   * The keys of every live entry and tombstone, least recently used first
   * (as {@linkcode writes}, without reading values).
   */
  *keys(): Generator<string> {
    const now = this.now();
    const entries = this.entries;
    for (let ref = entries.oldest; ref !== 0; ref = entries.newerThan(ref)) {
      this.counts.visited++;
      const key = this.keyOf(ref);
      if (!entries.isExpired(ref, now) && !this.hidden(ref, key)) yield key;
    }
  }

  /**
   * How one key stands, as the write that recreates it (value or
   * tombstone, remaining TTL, version), without counting a hit or a miss
   * or touching its recency; `undefined` when it holds nothing.
   */
  writeOf(key: string): ShardWrite | undefined {
    const ref = this.live(key);
    return ref === 0 ? undefined : this.#writeAt(ref, key, this.now());
  }

  #writeAt(ref: number, key: string, now: number): ShardWrite {
    const { typeUrl, value, version } = this.read(ref);
    const write: ShardWrite = {
      key,
      value: { typeUrl, value },
      ttlMs: this.entries.ttlLeft(ref, now),
      version,
    };
    if (this.entries.isTombstone(ref)) write.tombstone = true;
    return write;
  }

  /**
   * The store's counters: `items` counts values (not tombstones); `bytes`
   * every chunk (tombstones too), the index and the type URL table.
   */
  stats(): ShardCounters {
    return {
      items: this.index.size - this.tombstones,
      bytes: this.usedBytes(),
      capacityBytes: this.capacity,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      expirations: this.expirations,
      indexBytes: this.index.byteLength,
      arenaBytes: this.arena.peakTop - ALIGN,
    };
  }
}
