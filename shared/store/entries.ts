/**
 * The layout of a store entry inside its arena chunk, and the recency list
 * that runs through the entries' headers. An entry is named by its chunk's
 * ref (see `arena.ts`).
 *
 * Entry layout (byte offsets in the chunk):
 * - 0: the arena's size word; 4: the key's hash;
 * - 8: the next older entry's ref; 12: the next newer entry's ref;
 * - 16: the version (float64, 0 for none);
 * - 24: the key's length (low 16 bits) and its type URL's id (high 16
 *   bits; {@linkcode INLINE_TYPE_URL}: the entry holds the URL itself);
 * - 28: the value's length (low 30 bits; bit 31: the entry is a tombstone;
 *   bit 30: it has an expiry field);
 * - 32, only in an entry written with a time to live: when it expires
 *   (float64 ms on the store's clock, 0 for never), 8 bytes that an entry
 *   without one does not spend;
 * - then the key; then, for an inline type URL, its length (2 bytes) and
 *   bytes; then the value.
 *
 * @module
 */
import { InvalidArgumentError } from "../wire/errors.ts";
import { ALIGN, alignUp, type Arena, MIN_CHUNK } from "./arena.ts";
import { INLINE_TYPE_URL } from "./type_urls.ts";

/** Bytes of an entry's header, before its key (or its expiry field). */
export const ENTRY_HEADER_BYTES = 32;
/** Bytes of the expiry field that an entry with a time to live adds. */
export const EXPIRY_BYTES = 8;
/** The longest key or type URL an entry can hold, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 0xffff;
/** The longest value an entry can hold (its length field has 30 bits). */
export const MAX_VALUE_BYTES = 0x3fffffff;

const HASH = 1, OLDER = 2, NEWER = 3, VERSION = 2, EXPIRES = 4;
const LENGTHS = 6, VALUE_LENGTH = 7;
const TOMBSTONE = 0x80000000;
const HAS_EXPIRY = 0x40000000;

/** What an entry holds besides its key and value (see {@linkcode entryBytes}). */
export interface EntryExtras {
  /**
   * The type URL's UTF-8 length when the entry holds it itself; omitted
   * when the store's type URL table holds it.
   */
  inlineTypeUrlBytes?: number;
  /** Whether the entry has an expiry field (it was written with a TTL). */
  expiry?: boolean;
}

/**
 * Bytes an entry takes: its whole chunk, header and alignment included.
 * (An entry placed in a free chunk may take up to {@linkcode MIN_CHUNK} - 8
 * bytes more, when the rest is too small to stay free.)
 *
 * @param keyBytes The key's UTF-8 length.
 * @param valueBytes The value's length.
 * @param extras An inline type URL, an expiry field.
 */
export function entryBytes(
  keyBytes: number,
  valueBytes: number,
  extras: EntryExtras = {},
): number {
  const { inlineTypeUrlBytes, expiry } = extras;
  const inline = inlineTypeUrlBytes === undefined ? 0 : 2 + inlineTypeUrlBytes;
  return Math.max(
    MIN_CHUNK,
    alignUp(
      ENTRY_HEADER_BYTES + (expiry ? EXPIRY_BYTES : 0) + keyBytes + inline +
        valueBytes,
    ),
  );
}

/**
 * Checks that a value fits an entry's length field.
 *
 * @throws {InvalidArgumentError} when it does not.
 */
export function checkValueLength(bytes: number): void {
  if (bytes > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(
      `value is ${bytes} bytes: the store holds at most ${MAX_VALUE_BYTES}`,
    );
  }
}

/** What an entry's header says, as {@linkcode Entries.write} takes it. */
export interface EntryHeader {
  /** The key's hash. */
  hash: number;
  /** The version, 0 for none. */
  version: number;
  /**
   * When it expires on the store's clock, 0 for never. An entry written
   * with a non-zero one has an expiry field (see {@linkcode entryBytes}).
   */
  expires: number;
  /** The key's UTF-8 length. */
  keyLength: number;
  /** The type URL's id, or {@linkcode INLINE_TYPE_URL}. */
  typeId: number;
  /** The value's length. */
  valueLength: number;
  /** Whether the entry is a tombstone. */
  tombstone: boolean;
}

/**
 * The entries of one arena: their header fields, and a recency list from
 * the oldest (least recently used) to the newest.
 */
export class Entries {
  /** The arena's bytes. */
  readonly u8: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #f64: Float64Array;
  /** The least recently used entry (0 when empty). */
  oldest = 0;
  /** The most recently used entry (0 when empty). */
  newest = 0;

  /** @param arena The arena the entries live in. */
  constructor(arena: Arena) {
    this.u8 = arena.u8;
    this.#u32 = arena.u32;
    this.#f64 = arena.f64;
  }

  /** Fills in the header of a new entry at `ref`. */
  write(ref: number, header: EntryHeader): void {
    const word = ref * 2;
    this.#u32[word + HASH] = header.hash;
    this.#f64[ref + VERSION] = header.version;
    this.#u32[word + LENGTHS] = header.keyLength | header.typeId << 16;
    const expiry = header.expires !== 0;
    this.#u32[word + VALUE_LENGTH] = header.valueLength |
      (header.tombstone ? TOMBSTONE : 0) | (expiry ? HAS_EXPIRY : 0);
    if (expiry) this.#f64[ref + EXPIRES] = header.expires;
  }

  /** The key's hash. */
  hash(ref: number): number {
    return this.#u32[ref * 2 + HASH]!;
  }

  /** The version, 0 for none. */
  version(ref: number): number {
    return this.#f64[ref + VERSION]!;
  }

  /** When the entry expires on the store's clock, 0 for never. */
  expires(ref: number): number {
    return this.hasExpiry(ref) ? this.#f64[ref + EXPIRES]! : 0;
  }

  /** Whether the entry has an expiry field (it was written with a TTL). */
  hasExpiry(ref: number): boolean {
    return (this.#u32[ref * 2 + VALUE_LENGTH]! & HAS_EXPIRY) !== 0;
  }

  /**
   * Sets when an entry with an expiry field expires on the store's clock,
   * 0 for never.
   *
   * @throws {RangeError} when the entry has no expiry field.
   */
  setExpires(ref: number, expires: number): void {
    if (!this.hasExpiry(ref)) {
      throw new RangeError(
        `Cannot set the expiry of entry ${ref}: it has no expiry field`,
      );
    }
    this.#f64[ref + EXPIRES] = expires;
  }

  /** Whether the entry has expired at `now`. */
  isExpired(ref: number, now: number): boolean {
    const expires = this.expires(ref);
    return expires !== 0 && now > expires;
  }

  /** Milliseconds left to live at `now`, rounded up; 0 for no expiry. */
  ttlLeft(ref: number, now: number): number {
    const expires = this.expires(ref);
    return expires === 0 ? 0 : Math.max(1, Math.ceil(expires - now));
  }

  /** The key's UTF-8 length. */
  keyLength(ref: number): number {
    return this.#u32[ref * 2 + LENGTHS]! & 0xffff;
  }

  /** The type URL's id, or {@linkcode INLINE_TYPE_URL}. */
  typeId(ref: number): number {
    return this.#u32[ref * 2 + LENGTHS]! >>> 16;
  }

  /** Whether the entry is a tombstone. */
  isTombstone(ref: number): boolean {
    return (this.#u32[ref * 2 + VALUE_LENGTH]! & TOMBSTONE) !== 0;
  }

  /** Where the key starts. */
  keyStart(ref: number): number {
    return ref * ALIGN + ENTRY_HEADER_BYTES +
      (this.hasExpiry(ref) ? EXPIRY_BYTES : 0);
  }

  /** The inline type URL's bytes (empty when the table holds it). */
  inlineTypeUrl(ref: number): Uint8Array {
    if (this.typeId(ref) !== INLINE_TYPE_URL) return this.u8.subarray(0, 0);
    const at = this.keyStart(ref) + this.keyLength(ref);
    const length = this.u8[at]! | this.u8[at + 1]! << 8;
    return this.u8.subarray(at + 2, at + 2 + length);
  }

  /** Writes an inline type URL after the key; returns where the value goes. */
  writeInlineTypeUrl(ref: number, url: Uint8Array): number {
    const at = this.keyStart(ref) + this.keyLength(ref);
    this.u8[at] = url.length & 0xff;
    this.u8[at + 1] = url.length >>> 8;
    this.u8.set(url, at + 2);
    return at + 2 + url.length;
  }

  /** The value's bytes, as a view into the arena. */
  value(ref: number): Uint8Array {
    let at = this.keyStart(ref) + this.keyLength(ref);
    if (this.typeId(ref) === INLINE_TYPE_URL) {
      at += 2 + (this.u8[at]! | this.u8[at + 1]! << 8);
    }
    const length = this.#u32[ref * 2 + VALUE_LENGTH]! & MAX_VALUE_BYTES;
    return this.u8.subarray(at, at + length);
  }

  /** Makes `ref` the newest entry. */
  linkNewest(ref: number): void {
    const u32 = this.#u32;
    u32[ref * 2 + OLDER] = this.newest;
    u32[ref * 2 + NEWER] = 0;
    if (this.newest !== 0) u32[this.newest * 2 + NEWER] = ref;
    else this.oldest = ref;
    this.newest = ref;
  }

  /** Makes `ref` the newest entry, as a read does. */
  touch(ref: number): void {
    if (ref === this.newest) return;
    this.unlink(ref);
    this.linkNewest(ref);
  }

  /** Takes `ref` out of the recency list. */
  unlink(ref: number): void {
    const u32 = this.#u32;
    const older = u32[ref * 2 + OLDER]!;
    const newer = u32[ref * 2 + NEWER]!;
    if (older !== 0) u32[older * 2 + NEWER] = newer;
    else this.oldest = newer;
    if (newer !== 0) u32[newer * 2 + OLDER] = older;
    else this.newest = older;
  }

  /** The next newer entry, 0 after the newest. */
  newerThan(ref: number): number {
    return this.#u32[ref * 2 + NEWER]!;
  }
}
