/**
 * The byte-bounded LRU that one shard holds, with per-key TTL and
 * versions, kept outside the V8 heap: every entry is one chunk of an
 * {@linkcode Arena}, found through a {@linkcode HashIndex}, and linked into
 * a recency list through its own header. The budget counts every byte the
 * store spends: whole chunks (header, key, type URL, value, alignment) and
 * the index.
 *
 * Entry chunk layout (byte offsets):
 * - 0: the arena's size word; 4: the key's hash;
 * - 8: the next older entry's ref; 12: the next newer entry's ref;
 * - 16: the version (float64, 0 for none);
 * - 24: when the entry expires (float64 ms on the store's clock, 0 for never);
 * - 32: key length (low 16 bits) and type URL length (high 16 bits);
 * - 36: value length (bit 31: the entry is a tombstone);
 * - 40: key, type URL and value bytes (UTF-8 for text).
 *
 * A tombstone is a versioned delete: it holds no value, is invisible to
 * reads, and keeps an older write from bringing the key back until it
 * expires ({@linkcode TOMBSTONE_TTL_MS}) or is evicted.
 *
 * @module
 */
import {
  InvalidArgumentError,
  ResourceExhaustedError,
} from "../wire/errors.ts";
import type { AnyValue, ShardCounters } from "../wire/messages.ts";
import type { ShardWrite, StoredValue } from "../wire/shard.ts";
import { ALIGN, alignUp, Arena, MAX_ARENA_BYTES, MIN_CHUNK } from "./arena.ts";
import {
  hashBytes,
  HashIndex,
  INITIAL_SLOTS,
  SLOT_BYTES,
} from "./hash_index.ts";

/** Bytes of an entry's header, before its key. */
export const ENTRY_HEADER_BYTES = 40;
/** The longest key or type URL an entry can hold, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 0xffff;
/** Bytes of an empty store's index. */
export const INITIAL_INDEX_BYTES = INITIAL_SLOTS * SLOT_BYTES;
/** How long a tombstone lasts unless its write says otherwise: longer than any join copy. */
export const TOMBSTONE_TTL_MS = 10 * 60_000;
/** The longest value an entry can hold. */
export const MAX_VALUE_BYTES = 0x7fffffff;

const HASH = 1, OLDER = 2, NEWER = 3, VERSION = 2, EXPIRES = 3;
const LENGTHS = 8, VALUE_LENGTH = 9;
const TOMBSTONE = 0x80000000;
/** Type URLs decoded recently, by a cheap signature of their bytes. */
const URL_MEMO_SLOTS = 64;
const URL_MEMO_MAX_BYTES = 256;

/**
 * Bytes an entry is charged: its whole chunk, header and alignment
 * included. (An entry placed in a free chunk may take up to
 * {@linkcode MIN_CHUNK} - 8 bytes more, when the rest is too small to
 * stay free.)
 */
export function entryBytes(
  keyBytes: number,
  typeUrlBytes: number,
  valueBytes: number,
): number {
  return Math.max(
    MIN_CHUNK,
    alignUp(ENTRY_HEADER_BYTES + keyBytes + typeUrlBytes + valueBytes),
  );
}

/** Options for {@linkcode ShardStore}. */
export interface ShardStoreOptions {
  /** The byte budget: entries and index. */
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
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * One shard's entries: least recently used ones are evicted to keep the
 * chunks and the index within `maxBytes`.
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
  readonly #u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #f64: Float64Array;
  #index = new HashIndex();
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #tombstoneTtlMs: number;
  /** Most and least recently used entries (refs; 0 when empty). */
  #newest = 0;
  #oldest = 0;
  #withTtl = 0;
  #tombstones = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  /** The key being looked up, as UTF-8, and its length. */
  #key = new Uint8Array(4096);
  #keyLength = 0;
  #url = new Uint8Array(4096);
  readonly #memoBytes: (Uint8Array | undefined)[] = [];
  readonly #memoText: string[] = [];

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
    this.#u8 = this.#arena.u8;
    this.#u32 = this.#arena.u32;
    this.#f64 = this.#arena.f64;
  }

  /** Reads a key, counting a hit or a miss; expired keys are misses. */
  get(key: string): StoredValue | undefined {
    const ref = this.#live(key);
    if (ref === 0 || this.#isTombstone(ref)) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    if (ref !== this.#newest) {
      this.#unlink(ref);
      this.#linkNewest(ref);
    }
    return this.#read(ref);
  }

  /**
   * Writes a key (or, with `tombstone`, its tombstone), evicting least
   * recently used entries to make room. A write with a version replaces
   * only an older one (see `#isNewer`).
   *
   * @returns The version the key holds afterwards: the write's if it was
   * applied, the newer one held if not; 0 for an unversioned write.
   * @throws {ResourceExhaustedError} when the entry alone exceeds the budget.
   * @throws {InvalidArgumentError} when the key or type URL is longer than
   * an entry can hold.
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
    const existed = ref !== 0 && !this.#isTombstone(ref);
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
    if (ref === 0 || this.#isTombstone(ref)) return undefined;
    const expires = this.#f64[ref + EXPIRES]!;
    return expires === 0 ? 0 : Math.max(1, Math.ceil(expires - this.#now()));
  }

  /** Drops expired entries, so that counts and bytes are current. */
  purgeExpired(): void {
    if (this.#withTtl === 0) return;
    const now = this.#now();
    for (let ref = this.#oldest; ref !== 0;) {
      const newer = this.#u32[ref * 2 + NEWER]!;
      if (this.#expired(ref, now)) this.#expire(ref);
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
    for (let ref = this.#oldest; ref !== 0;) {
      const newer = this.#u32[ref * 2 + NEWER]!;
      if (!this.#expired(ref, now)) {
        const { typeUrl, value, version } = this.#read(ref);
        const expires = this.#f64[ref + EXPIRES]!;
        const write: ShardWrite = {
          key: utf8Decoder.decode(this.#keyBytes(ref)),
          value: { typeUrl, value },
          ttlMs: expires === 0 ? 0 : Math.max(1, Math.ceil(expires - now)),
          version,
        };
        if (this.#isTombstone(ref)) write.tombstone = true;
        yield write;
      }
      ref = newer;
    }
  }

  /**
   * The store's counters: `items` counts values (not tombstones); `bytes`
   * every chunk (tombstones too) and the index.
   */
  stats(): ShardCounters {
    return {
      items: this.#index.size - this.#tombstones,
      bytes: this.#arena.usedBytes + this.#index.byteLength,
      capacityBytes: this.#capacity,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      indexBytes: this.#index.byteLength,
      arenaBytes: this.#arena.peakTop - ALIGN,
    };
  }

  #checkSize(write: ShardWrite): void {
    const value = write.tombstone ? NO_VALUE : write.value;
    if (value.value.byteLength > MAX_VALUE_BYTES) {
      throw new InvalidArgumentError(
        `value is ${value.value.byteLength} bytes: the store holds at most ${MAX_VALUE_BYTES}`,
      );
    }
    const size = entryBytes(
      this.#encodeKey(write.key),
      this.#encodeUrl(value.typeUrl),
      value.value.byteLength,
    );
    const room = this.#capacity - INITIAL_INDEX_BYTES;
    if (size > room) {
      throw new ResourceExhaustedError(
        `entry is ${size} bytes with its header: a shard holds at most ${room}`,
      );
    }
  }

  #put(write: ShardWrite): number {
    const hash = this.#hashKey(write.key);
    const tombstone = write.tombstone === true;
    const any = tombstone ? NO_VALUE : write.value;
    const old = this.#find(hash);
    if (old !== 0) {
      const held = this.#f64[old + VERSION]!;
      if (
        write.version !== undefined && !this.#isNewer(write.version, any, old)
      ) {
        return held;
      }
      this.#remove(old);
    }
    const urlLength = this.#encodeUrl(any.typeUrl);
    const value = any.value;
    const size = entryBytes(this.#keyLength, urlLength, value.byteLength);
    const ref = this.#allocate(size);
    const u32 = this.#u32, f64 = this.#f64, u8 = this.#u8;
    const word = ref * 2;
    const ttlMs = write.ttlMs > 0
      ? write.ttlMs
      : tombstone
      ? this.#tombstoneTtlMs
      : 0;
    u32[word + HASH] = hash;
    f64[ref + VERSION] = write.version ?? 0;
    f64[ref + EXPIRES] = ttlMs > 0 ? this.#now() + ttlMs : 0;
    if (ttlMs > 0) this.#withTtl++;
    u32[word + LENGTHS] = this.#keyLength | urlLength << 16;
    u32[word + VALUE_LENGTH] = value.byteLength | (tombstone ? TOMBSTONE : 0);
    if (tombstone) this.#tombstones++;
    let at = ref * ALIGN + ENTRY_HEADER_BYTES;
    u8.set(this.#key.subarray(0, this.#keyLength), at);
    at += this.#keyLength;
    u8.set(this.#url.subarray(0, urlLength), at);
    u8.set(value, at + urlLength);
    this.#linkNewest(ref);
    this.#index.insert(hash, ref);
    return write.version ?? 0;
  }

  /**
   * A chunk of `size` bytes, evicting the oldest entries until the chunks,
   * the index (as it will be after one more insertion) and the new chunk
   * fit the budget, and a free chunk or untouched memory can hold it.
   */
  #allocate(size: number): number {
    for (;;) {
      const index = this.#index.bytesAfterInsert();
      if (this.#arena.usedBytes + index + size <= this.#capacity) {
        const ref = this.#arena.allocate(size, ALIGN + this.#capacity - index);
        if (ref !== 0) return ref;
      }
      if (this.#oldest === 0) {
        // Empty, yet no room: only a grown index can be in the way.
        this.#index = new HashIndex();
        const ref = this.#arena.allocate(size, this.#arena.byteLength);
        if (ref === 0) throw new Error(`no room for ${size} bytes when empty`);
        return ref;
      }
      const oldest = this.#oldest;
      if (this.#expired(oldest, this.#now())) this.#expire(oldest);
      else {
        if (!this.#isTombstone(oldest)) this.#evictions++;
        this.#remove(oldest);
      }
    }
  }

  /**
   * Whether a write should replace the value held: a higher version wins;
   * on equal versions (two frontends in the same clock tick) the greater
   * bytes win (type URL, then value), so that every replica picks the same
   * one whatever the arrival order.
   */
  #isNewer(version: number, value: AnyValue, ref: number): boolean {
    const held = this.#f64[ref + VERSION]!;
    if (version !== held) return version > held;
    const urlLength = this.#encodeUrl(value.typeUrl);
    const start = ref * ALIGN + ENTRY_HEADER_BYTES + this.#keyLengthOf(ref);
    const heldUrlLength = this.#u32[ref * 2 + LENGTHS]! >>> 16;
    const order = compareBytes(
      this.#url.subarray(0, urlLength),
      this.#u8.subarray(start, start + heldUrlLength),
    ) || compareBytes(
      value.value,
      this.#u8.subarray(
        start + heldUrlLength,
        start + heldUrlLength + this.#valueLengthOf(ref),
      ),
    );
    return order > 0;
  }

  /** The live entry of `key` (expired ones are dropped on sight), or 0. */
  #live(key: string): number {
    const ref = this.#find(this.#hashKey(key));
    if (ref === 0) return 0;
    if (this.#expired(ref, this.#now())) {
      this.#expire(ref);
      return 0;
    }
    return ref;
  }

  /** The entry of the key last hashed, or 0. */
  #find(hash: number): number {
    const slot = this.#index.find(hash, this.#matchesKey);
    return slot < 0 ? 0 : this.#index.refAt(slot);
  }

  readonly #matchesKey = (ref: number): boolean => {
    const length = this.#keyLength;
    if (this.#keyLengthOf(ref) !== length) return false;
    const u8 = this.#u8, key = this.#key;
    const start = ref * ALIGN + ENTRY_HEADER_BYTES;
    for (let i = 0; i < length; i++) {
      if (u8[start + i] !== key[i]) return false;
    }
    return true;
  };

  #expired(ref: number, now: number): boolean {
    const expires = this.#f64[ref + EXPIRES]!;
    return expires !== 0 && now > expires;
  }

  #expire(ref: number): void {
    if (!this.#isTombstone(ref)) this.#expirations++;
    this.#remove(ref);
  }

  #isTombstone(ref: number): boolean {
    return (this.#u32[ref * 2 + VALUE_LENGTH]! & TOMBSTONE) !== 0;
  }

  #valueLengthOf(ref: number): number {
    return this.#u32[ref * 2 + VALUE_LENGTH]! & ~TOMBSTONE;
  }

  /** Unlinks, unindexes and frees an entry. */
  #remove(ref: number): void {
    const hash = this.#u32[ref * 2 + HASH]!;
    this.#index.removeAt(this.#index.find(hash, (held) => held === ref));
    if (this.#f64[ref + EXPIRES] !== 0) this.#withTtl--;
    if (this.#isTombstone(ref)) this.#tombstones--;
    this.#unlink(ref);
    this.#arena.release(ref);
  }

  #linkNewest(ref: number): void {
    const u32 = this.#u32;
    u32[ref * 2 + OLDER] = this.#newest;
    u32[ref * 2 + NEWER] = 0;
    if (this.#newest !== 0) u32[this.#newest * 2 + NEWER] = ref;
    else this.#oldest = ref;
    this.#newest = ref;
  }

  #unlink(ref: number): void {
    const u32 = this.#u32;
    const older = u32[ref * 2 + OLDER]!;
    const newer = u32[ref * 2 + NEWER]!;
    if (older !== 0) u32[older * 2 + NEWER] = newer;
    else this.#oldest = newer;
    if (newer !== 0) u32[newer * 2 + OLDER] = older;
    else this.#newest = older;
  }

  #read(ref: number): StoredValue {
    const u32 = this.#u32;
    const lengths = u32[ref * 2 + LENGTHS]!;
    const urlLength = lengths >>> 16;
    const urlStart = ref * ALIGN + ENTRY_HEADER_BYTES + (lengths & 0xffff);
    const valueStart = urlStart + urlLength;
    const typeUrl = this.#urlText(urlStart, urlLength);
    const value = this.#u8.slice(
      valueStart,
      valueStart + this.#valueLengthOf(ref),
    );
    const version = this.#f64[ref + VERSION]!;
    return version === 0 ? { typeUrl, value } : { typeUrl, value, version };
  }

  #keyLengthOf(ref: number): number {
    return this.#u32[ref * 2 + LENGTHS]! & 0xffff;
  }

  #keyBytes(ref: number): Uint8Array {
    const start = ref * ALIGN + ENTRY_HEADER_BYTES;
    return this.#u8.subarray(start, start + this.#keyLengthOf(ref));
  }

  /** Encodes `key` into the key buffer and hashes it. */
  #hashKey(key: string): number {
    this.#encodeKey(key);
    return hashBytes(this.#key, this.#keyLength);
  }

  /** Encodes `key` into the key buffer; returns its UTF-8 length. */
  #encodeKey(key: string): number {
    if (this.#key.length < key.length * 3) {
      this.#key = new Uint8Array(key.length * 3);
    }
    const length = utf8.encodeInto(key, this.#key).written;
    if (length > MAX_TEXT_BYTES) {
      throw new InvalidArgumentError(
        `key is ${length} bytes: the store holds at most ${MAX_TEXT_BYTES}`,
      );
    }
    this.#keyLength = length;
    return length;
  }

  /** Encodes a type URL into the URL buffer; returns its UTF-8 length. */
  #encodeUrl(typeUrl: string): number {
    if (this.#url.length < typeUrl.length * 3) {
      this.#url = new Uint8Array(typeUrl.length * 3);
    }
    const length = utf8.encodeInto(typeUrl, this.#url).written;
    if (length > MAX_TEXT_BYTES) {
      throw new InvalidArgumentError(
        `type URL is ${length} bytes: the store holds at most ${MAX_TEXT_BYTES}`,
      );
    }
    return length;
  }

  /**
   * The type URL at `start`, decoded once and then remembered in a small
   * fixed table (most caches see a handful of types).
   */
  #urlText(start: number, length: number): string {
    if (length === 0) return "";
    const u8 = this.#u8;
    if (length > URL_MEMO_MAX_BYTES) {
      return utf8Decoder.decode(u8.subarray(start, start + length));
    }
    const slot = (length ^ u8[start + (length >>> 1)]! << 2 ^
      u8[start + length - 1]! << 4) & (URL_MEMO_SLOTS - 1);
    const memo = this.#memoBytes[slot];
    if (memo !== undefined && memo.length === length) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = memo[i] === u8[start + i];
      if (same) return this.#memoText[slot]!;
    }
    const bytes = u8.slice(start, start + length);
    const text = utf8Decoder.decode(bytes);
    this.#memoBytes[slot] = bytes;
    this.#memoText[slot] = text;
    return text;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
