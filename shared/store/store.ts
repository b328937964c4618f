/**
 * The byte-bounded LRU that one shard holds, with per-key TTL and
 * versions, kept outside the V8 heap: every entry is one chunk of an
 * {@linkcode Arena} (see `entries.ts` for its layout), found through a
 * {@linkcode KeyIndex}, and linked into a recency list through its own
 * header; type URLs are held once in a {@linkcode TypeUrlTable}. The budget
 * counts every byte the store spends: whole chunks (header, key, value,
 * alignment), the index and the type URL table.
 *
 * A tombstone is a versioned delete: it holds no value, is invisible to
 * reads, and keeps an older write from bringing the key back until it
 * expires ({@linkcode TOMBSTONE_TTL_MS}) or is evicted.
 *
 * @module
 */
import { ResourceExhaustedError } from "../wire/errors.ts";
import type { AnyValue, ShardCounters } from "../wire/messages.ts";
import type { ShardWrite, StoredValue } from "../wire/shard.ts";
import { ALIGN, Arena, MAX_ARENA_BYTES } from "./arena.ts";
import {
  checkValueLength,
  Entries,
  entryBytes,
  MAX_TEXT_BYTES,
} from "./entries.ts";
import { INITIAL_INDEX_BYTES, KeyIndex } from "./key_index.ts";
import { INLINE_TYPE_URL, TypeUrlTable } from "./type_urls.ts";
import { replaces } from "./write_order.ts";

/** How long a tombstone lasts unless its write says otherwise: longer than any join copy. */
export const TOMBSTONE_TTL_MS = 10 * 60_000;

/** Options for {@linkcode ShardStore}. */
export interface ShardStoreOptions {
  /** The byte budget: entries, index and type URLs. */
  maxBytes: number;
  /**
   * The clock, in milliseconds; tests pass a fake one to expire keys
   * without sleeping.
   * @default performance.now
   */
  now?: () => number;
  /**
   * How long a tombstone lasts when its write gives no TTL.
   * @default TOMBSTONE_TTL_MS
   */
  tombstoneTtlMs?: number;
}

const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };
const utf8Decoder = new TextDecoder();

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
export class ShardStore {
  readonly #arena: Arena;
  readonly #entries: Entries;
  readonly #index: KeyIndex;
  readonly #types = new TypeUrlTable(MAX_TEXT_BYTES);
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #tombstoneTtlMs: number;
  #withTtl = 0;
  #tombstones = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;

  /** @param options The byte budget and clock. */
  constructor(options: ShardStoreOptions) {
    const { maxBytes } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(
        `Cannot create store: maxBytes must be a positive integer: received ${maxBytes}`,
      );
    }
    if (maxBytes > MAX_ARENA_BYTES - ALIGN) {
      throw new RangeError(
        `Cannot create store: one shard holds at most ${
          MAX_ARENA_BYTES - ALIGN
        } bytes (use more shards): received ${maxBytes}`,
      );
    }
    this.#capacity = maxBytes;
    this.#now = options.now ?? (() => performance.now());
    this.#tombstoneTtlMs = options.tombstoneTtlMs ?? TOMBSTONE_TTL_MS;
    // One word past the budget: ref 0 is never a chunk.
    this.#arena = new Arena(ALIGN + Math.floor(maxBytes / ALIGN) * ALIGN);
    this.#entries = new Entries(this.#arena);
    this.#index = new KeyIndex(this.#entries, MAX_TEXT_BYTES);
  }

  /** Reads a key, counting a hit or a miss; expired keys are misses. */
  get(key: string): StoredValue | undefined {
    const ref = this.#live(key);
    if (ref === 0 || this.#entries.isTombstone(ref)) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.touch(ref);
    return this.#read(ref);
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
    this.#checkSize(write);
    return this.#put(write);
  }

  /**
   * Writes several keys, all or none: every size is checked first.
   *
   * @throws {ResourceExhaustedError} when any entry exceeds the budget.
   */
  setMany(writes: ShardWrite[]): void {
    for (const write of writes) this.#checkSize(write);
    for (const write of writes) this.#put(write);
  }

  /**
   * Removes a key; tells whether a value was there (and not expired). With
   * a version, the key keeps a tombstone of that version instead, unless it
   * holds a newer one (then nothing changes and the answer is false).
   */
  delete(key: string, version?: number): boolean {
    const ref = this.#live(key);
    const existed = ref !== 0 && !this.#entries.isTombstone(ref);
    if (version === undefined) {
      if (ref !== 0) this.#remove(ref);
      return existed;
    }
    const write = { key, value: NO_VALUE, ttlMs: 0, version, tombstone: true };
    this.#checkSize(write);
    return this.#put(write) === version && existed;
  }

  /** Milliseconds left to live: 0 for no expiry, `undefined` on a miss. */
  ttl(key: string): number | undefined {
    const ref = this.#live(key);
    if (ref === 0 || this.#entries.isTombstone(ref)) return undefined;
    return this.#entries.ttlLeft(ref, this.#now());
  }

  /** Drops expired entries, so that counts and bytes are current. */
  purgeExpired(): void {
    if (this.#withTtl === 0) return;
    const now = this.#now();
    for (let ref = this.#entries.oldest; ref !== 0;) {
      const newer = this.#entries.newerThan(ref);
      if (this.#entries.isExpired(ref, now)) this.#expire(ref);
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
    const now = this.#now();
    const entries = this.#entries;
    for (let ref = entries.oldest; ref !== 0;) {
      const newer = entries.newerThan(ref);
      if (!this.#entries.isExpired(ref, now)) {
        const { typeUrl, value, version } = this.#read(ref);
        const start = entries.keyStart(ref);
        const write: ShardWrite = {
          key: utf8Decoder.decode(
            entries.u8.subarray(start, start + entries.keyLength(ref)),
          ),
          value: { typeUrl, value },
          ttlMs: this.#entries.ttlLeft(ref, now),
          version,
        };
        if (entries.isTombstone(ref)) write.tombstone = true;
        yield write;
      }
      ref = newer;
    }
  }

  /**
   * The store's counters: `items` counts values (not tombstones); `bytes`
   * every chunk (tombstones too), the index and the type URL table.
   */
  stats(): ShardCounters {
    return {
      items: this.#index.size - this.#tombstones,
      bytes: this.#usedBytes(),
      capacityBytes: this.#capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      indexBytes: this.#index.byteLength,
      arenaBytes: this.#arena.peakTop - ALIGN,
    };
  }

  #usedBytes(): number {
    return this.#arena.usedBytes + this.#index.byteLength +
      this.#types.byteLength;
  }

  #checkSize(write: ShardWrite): void {
    const value = write.tombstone ? NO_VALUE : write.value;
    checkValueLength(value.value.byteLength);
    const keyLength = this.#index.key.encode(write.key);
    const url = this.#types.plan(value.typeUrl);
    const size = entryBytes(
      keyLength,
      value.value.byteLength,
      url.interned ? undefined : url.length,
    ) + url.charge;
    const room = this.#capacity - INITIAL_INDEX_BYTES;
    if (size > room) {
      throw new ResourceExhaustedError(
        `entry is ${size} bytes with its header: a shard holds at most ${room}`,
      );
    }
  }

  #put(write: ShardWrite): number {
    const old = this.#index.find(write.key);
    const tombstone = write.tombstone === true;
    const any = tombstone ? NO_VALUE : write.value;
    if (old !== 0) {
      if (
        write.version !== undefined && !this.#isNewer(write.version, any, old)
      ) {
        return this.#entries.version(old);
      }
      this.#remove(old);
    }
    const key = this.#index.key;
    const keyLength = key.length;
    const url = this.#types.plan(any.typeUrl);
    const size = entryBytes(
      keyLength,
      any.value.byteLength,
      url.interned ? undefined : url.length,
    );
    const ref = this.#allocate(size, url.charge);
    // After evictions, which may have let the URL go: acquire it now.
    const typeId = url.interned
      ? this.#types.acquire(any.typeUrl)
      : INLINE_TYPE_URL;
    const ttlMs = write.ttlMs > 0
      ? write.ttlMs
      : tombstone
      ? this.#tombstoneTtlMs
      : 0;
    const entries = this.#entries;
    entries.write(ref, {
      hash: this.#index.hash,
      version: write.version ?? 0,
      expires: ttlMs > 0 ? this.#now() + ttlMs : 0,
      keyLength,
      typeId,
      valueLength: any.value.byteLength,
      tombstone,
    });
    if (ttlMs > 0) this.#withTtl++;
    if (tombstone) this.#tombstones++;
    entries.u8.set(key.view(), entries.keyStart(ref));
    const valueStart = url.interned
      ? entries.keyStart(ref) + keyLength
      : entries.writeInlineTypeUrl(ref, this.#types.utf8.view());
    entries.u8.set(any.value, valueStart);
    entries.linkNewest(ref);
    this.#index.insert(ref);
    // A type URL that evictions dropped and this write added again was
    // not in the reckoning: make room for it too.
    while (this.#usedBytes() > this.#capacity && entries.oldest !== ref) {
      this.#evictOldest();
    }
    return write.version ?? 0;
  }

  /**
   * A chunk of `size` bytes, evicting the oldest entries until the chunks,
   * the index (as it will be after one more insertion), the type URLs
   * (with `extra` more) and the new chunk fit the budget, and a free chunk
   * or untouched memory can hold it.
   */
  #allocate(size: number, extra: number): number {
    for (;;) {
      const index = this.#index.bytesAfterInsert();
      const others = index + this.#types.byteLength + extra;
      if (this.#arena.usedBytes + others + size <= this.#capacity) {
        // Untouched memory is taken only up to what the rest leaves.
        const ref = this.#arena.allocate(size, ALIGN + this.#capacity - others);
        if (ref !== 0) return ref;
      }
      if (this.#entries.oldest === 0) {
        // Empty, yet no room: only a grown index can be in the way.
        this.#index.shrink();
        const ref = this.#arena.allocate(size, this.#arena.byteLength);
        if (ref === 0) throw new Error(`no room for ${size} bytes when empty`);
        return ref;
      }
      this.#evictOldest();
    }
  }

  #evictOldest(): void {
    const oldest = this.#entries.oldest;
    if (this.#entries.isExpired(oldest, this.#now())) this.#expire(oldest);
    else {
      if (!this.#entries.isTombstone(oldest)) this.#evictions++;
      this.#remove(oldest);
    }
  }

  /** Whether a write replaces entry `ref` (see `write_order.ts`). */
  #isNewer(version: number, value: AnyValue, ref: number): boolean {
    this.#types.utf8.encode(value.typeUrl);
    return replaces(
      { version, typeUrl: this.#types.utf8.view(), value: value.value },
      {
        version: this.#entries.version(ref),
        typeUrl: this.#typeUrlBytes(ref),
        value: this.#entries.value(ref),
      },
    );
  }

  /** The live entry of `key` (expired ones are dropped on sight), or 0. */
  #live(key: string): number {
    const ref = this.#index.find(key);
    if (ref === 0) return 0;
    if (this.#entries.isExpired(ref, this.#now())) {
      this.#expire(ref);
      return 0;
    }
    return ref;
  }

  #expire(ref: number): void {
    if (!this.#entries.isTombstone(ref)) this.#expirations++;
    this.#remove(ref);
  }

  /** Unlinks, unindexes and frees an entry, and lets go of its type URL. */
  #remove(ref: number): void {
    const entries = this.#entries;
    this.#index.remove(ref);
    if (entries.expires(ref) !== 0) this.#withTtl--;
    if (entries.isTombstone(ref)) this.#tombstones--;
    const typeId = entries.typeId(ref);
    if (typeId !== INLINE_TYPE_URL) this.#types.release(typeId);
    entries.unlink(ref);
    this.#arena.release(ref);
  }

  #read(ref: number): StoredValue {
    const typeId = this.#entries.typeId(ref);
    const typeUrl = typeId === INLINE_TYPE_URL
      ? utf8Decoder.decode(this.#entries.inlineTypeUrl(ref))
      : this.#types.textOf(typeId);
    const value = this.#entries.value(ref).slice();
    const version = this.#entries.version(ref);
    return version === 0 ? { typeUrl, value } : { typeUrl, value, version };
  }

  #typeUrlBytes(ref: number): Uint8Array {
    const typeId = this.#entries.typeId(ref);
    return typeId === INLINE_TYPE_URL
      ? this.#entries.inlineTypeUrl(ref)
      : this.#types.bytesOf(typeId);
  }
}
