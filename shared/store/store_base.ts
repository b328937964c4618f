/**
 * The internals of `ShardStore` (see `store.ts`): the arena, the
 * entries, the index, the type URL and flushed namespace tables, and how an
 * entry is found, written, evicted and removed within the byte budget.
 *
 * @module
 */
import { ResourceExhaustedError } from "../wire/errors.ts";
import type { AnyValue } from "../wire/messages.ts";
import type { ShardWrite, StoredValue } from "../wire/shard.ts";
import { ALIGN, Arena, MAX_ARENA_BYTES } from "./arena.ts";
import {
  checkValueLength,
  Entries,
  entryBytes,
  MAX_TEXT_BYTES,
} from "./entries.ts";
import { INITIAL_INDEX_BYTES, KeyIndex } from "./key_index.ts";
import { NamespaceFlushes } from "./namespace_flushes.ts";
import {
  INLINE_TYPE_URL,
  type TypeUrlPlan,
  TypeUrlTable,
} from "./type_urls.ts";
import { replaces } from "./write_order.ts";

/** How long a tombstone lasts unless its write says otherwise: longer than any join copy. */
export const TOMBSTONE_TTL_MS = 10 * 60_000;

/** Options for a `ShardStore`. */
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

/** The value of a tombstone. */
export const NO_VALUE: AnyValue = { typeUrl: "", value: new Uint8Array(0) };
const utf8Decoder = new TextDecoder();

/** The state and internal steps of a `ShardStore`. */
export class StoreBase {
  protected readonly arena: Arena;
  protected readonly entries: Entries;
  protected readonly index: KeyIndex;
  protected readonly types = new TypeUrlTable(MAX_TEXT_BYTES);
  protected readonly flushes = new NamespaceFlushes();
  protected readonly capacity: number;
  protected readonly now: () => number;
  protected readonly tombstoneTtlMs: number;
  protected withTtl = 0;
  protected tombstones = 0;
  protected hits = 0;
  protected misses = 0;
  protected evictions = 0;
  protected expirations = 0;
  protected counts = { flushes: 0, visited: 0, flushedAway: 0 };

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
    this.capacity = maxBytes;
    this.now = options.now ?? (() => performance.now());
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? TOMBSTONE_TTL_MS;
    // One word past the budget: ref 0 is never a chunk.
    this.arena = new Arena(ALIGN + Math.floor(maxBytes / ALIGN) * ALIGN);
    this.entries = new Entries(this.arena);
    this.index = new KeyIndex(this.entries, MAX_TEXT_BYTES);
  }
  /** Removes every entry a flush hides; then the table can forget them all. */
  protected sweepFlushed(): void {
    const entries = this.entries;
    for (let ref = entries.oldest; ref !== 0;) {
      const newer = entries.newerThan(ref);
      this.counts.visited++;
      if (this.hidden(ref, this.keyOf(ref))) this.flushAway(ref);
      ref = newer;
    }
    this.flushes.clear();
  }

  protected hidden(ref: number, key: string): boolean {
    return this.flushes.size !== 0 &&
      this.flushes.hides(key, this.entries.version(ref));
  }

  protected flushAway(ref: number): void {
    this.counts.flushedAway++;
    this.remove(ref);
  }

  protected keyOf(ref: number): string {
    const start = this.entries.keyStart(ref);
    return utf8Decoder.decode(
      this.entries.u8.subarray(start, start + this.entries.keyLength(ref)),
    );
  }

  protected usedBytes(): number {
    return this.arena.usedBytes + this.index.byteLength +
      this.types.byteLength + this.flushes.byteLength;
  }

  /**
   * Checks that a write can fit the store at all.
   *
   * @throws {ResourceExhaustedError} when the entry alone exceeds the budget.
   */
  protected checkSize(write: ShardWrite): void {
    this.#fits(
      this.index.key.encode(write.key),
      write.tombstone ? NO_VALUE : write.value,
      this.#ttlOf(write) > 0,
    );
  }

  /** The time to live an entry for `write` gets, in ms (0: none). */
  #ttlOf(write: ShardWrite): number {
    if (write.ttlMs > 0) return write.ttlMs;
    return write.tombstone === true ? this.tombstoneTtlMs : 0;
  }

  /**
   * Checks that an entry with a key of `keyLength` bytes and `value` (and
   * an expiry field, if `expiry`) fits the store at all; returns where its
   * type URL goes.
   */
  #fits(keyLength: number, value: AnyValue, expiry: boolean): TypeUrlPlan {
    checkValueLength(value.value.byteLength);
    const url = this.types.plan(value.typeUrl);
    const size = entryBytes(keyLength, value.value.byteLength, {
      inlineTypeUrlBytes: url.interned ? undefined : url.length,
      expiry,
    }) + url.charge;
    const room = this.capacity - INITIAL_INDEX_BYTES;
    if (size > room) {
      throw new ResourceExhaustedError(
        `entry is ${size} bytes with its header: a shard holds at most ${room}`,
      );
    }
    return url;
  }

  /**
   * Writes a key after checking that it fits (before anything changes).
   *
   * @param write The key, value, TTL and version.
   * @param replace Replace a held entry whatever its version (to rewrite
   * it with an expiry field); otherwise a versioned write replaces only an
   * older entry (see `write_order.ts`).
   * @returns The version the key holds afterwards.
   * @throws {ResourceExhaustedError} when the entry alone exceeds the budget.
   */
  protected put(write: ShardWrite, replace = false): number {
    const old = this.index.find(write.key);
    const tombstone = write.tombstone === true;
    const any = tombstone ? NO_VALUE : write.value;
    const ttlMs = this.#ttlOf(write);
    let url = this.#fits(this.index.key.length, any, ttlMs > 0);
    if (old !== 0) {
      if (
        !replace && write.version !== undefined &&
        !this.hidden(old, write.key) && !this.isNewer(write.version, any, old)
      ) {
        return this.entries.version(old);
      }
      this.remove(old);
      // The old entry may have been its type URL's last user.
      url = this.types.plan(any.typeUrl);
    }
    const key = this.index.key;
    const keyLength = key.length;
    const size = entryBytes(keyLength, any.value.byteLength, {
      inlineTypeUrlBytes: url.interned ? undefined : url.length,
      expiry: ttlMs > 0,
    });
    const ref = this.allocate(size, url.charge);
    // After evictions, which may have let the URL go: acquire it now.
    const typeId = url.interned
      ? this.types.acquire(any.typeUrl)
      : INLINE_TYPE_URL;
    const entries = this.entries;
    entries.write(ref, {
      hash: this.index.hash,
      version: write.version ?? 0,
      expires: ttlMs > 0 ? this.now() + ttlMs : 0,
      keyLength,
      typeId,
      valueLength: any.value.byteLength,
      tombstone,
    });
    if (ttlMs > 0) this.withTtl++;
    if (tombstone) this.tombstones++;
    entries.u8.set(key.view(), entries.keyStart(ref));
    const valueStart = url.interned
      ? entries.keyStart(ref) + keyLength
      : entries.writeInlineTypeUrl(ref, this.types.utf8.view());
    entries.u8.set(any.value, valueStart);
    entries.linkNewest(ref);
    this.index.insert(ref);
    // A type URL that evictions dropped and this write added again was
    // not in the reckoning: make room for it too.
    while (this.usedBytes() > this.capacity && entries.oldest !== ref) {
      this.evictOldest();
    }
    return write.version ?? 0;
  }

  /**
   * A chunk of `size` bytes, evicting the oldest entries until the chunks,
   * the index (as it will be after one more insertion), the type URLs
   * (with `extra` more) and the new chunk fit the budget, and a free chunk
   * or untouched memory can hold it.
   */
  protected allocate(size: number, extra: number): number {
    for (;;) {
      const index = this.index.bytesAfterInsert();
      const others = index + this.types.byteLength +
        this.flushes.byteLength + extra;
      if (this.arena.usedBytes + others + size <= this.capacity) {
        // Untouched memory is taken only up to what the rest leaves.
        const ref = this.arena.allocate(size, ALIGN + this.capacity - others);
        if (ref !== 0) return ref;
      }
      if (this.entries.oldest === 0) {
        // Empty, yet no room: only a grown index can be in the way.
        this.index.shrink();
        const ref = this.arena.allocate(size, this.arena.byteLength);
        if (ref === 0) throw new Error(`no room for ${size} bytes when empty`);
        return ref;
      }
      this.evictOldest();
    }
  }

  protected evictOldest(): void {
    const oldest = this.entries.oldest;
    if (this.entries.isExpired(oldest, this.now())) this.expire(oldest);
    else {
      if (!this.entries.isTombstone(oldest)) this.evictions++;
      this.remove(oldest);
    }
  }

  /** Whether a write replaces entry `ref` (see `write_order.ts`). */
  protected isNewer(version: number, value: AnyValue, ref: number): boolean {
    this.types.utf8.encode(value.typeUrl);
    return replaces(
      { version, typeUrl: this.types.utf8.view(), value: value.value },
      {
        version: this.entries.version(ref),
        typeUrl: this.typeUrlBytes(ref),
        value: this.entries.value(ref),
      },
    );
  }

  /** The live entry of `key` (expired ones are dropped on sight), or 0. */
  protected live(key: string): number {
    const ref = this.index.find(key);
    if (ref === 0) return 0;
    if (this.entries.isExpired(ref, this.now())) {
      this.expire(ref);
      return 0;
    }
    if (this.hidden(ref, key)) {
      this.flushAway(ref);
      return 0;
    }
    return ref;
  }

  protected expire(ref: number): void {
    if (!this.entries.isTombstone(ref)) this.expirations++;
    this.remove(ref);
  }

  /** Unlinks, unindexes and frees an entry, and lets go of its type URL. */
  protected remove(ref: number): void {
    const entries = this.entries;
    this.index.remove(ref);
    if (entries.expires(ref) !== 0) this.withTtl--;
    if (entries.isTombstone(ref)) this.tombstones--;
    const typeId = entries.typeId(ref);
    if (typeId !== INLINE_TYPE_URL) this.types.release(typeId);
    entries.unlink(ref);
    this.arena.release(ref);
  }

  protected read(ref: number): StoredValue {
    const typeId = this.entries.typeId(ref);
    const typeUrl = typeId === INLINE_TYPE_URL
      ? utf8Decoder.decode(this.entries.inlineTypeUrl(ref))
      : this.types.textOf(typeId);
    const value = this.entries.value(ref).slice();
    const version = this.entries.version(ref);
    return version === 0 ? { typeUrl, value } : { typeUrl, value, version };
  }

  protected typeUrlBytes(ref: number): Uint8Array {
    const typeId = this.entries.typeId(ref);
    return typeId === INLINE_TYPE_URL
      ? this.entries.inlineTypeUrl(ref)
      : this.types.bytesOf(typeId);
  }
}
