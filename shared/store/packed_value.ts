/**
 * Values packed into one-byte strings, the most compact thing V8 holds: a
 * stored value costs its bytes plus a 16-byte string header, where a
 * `Uint8Array` costs several hundred bytes of objects and malloc overhead.
 *
 * Layout, one character per byte:
 * - flags: bit 0 a version follows, bit 1 the type URL is inline;
 * - the type URL: a 2-byte id from a {@linkcode TypeUrlTable}, or, once
 *   the table is full, a 2-byte UTF-8 length and the UTF-8 bytes;
 * - the version, 7 bytes big-endian, if flagged;
 * - the value bytes.
 *
 * @module
 */
import type { StoredValue } from "../wire/shard.ts";

const HAS_VERSION = 1;
const INLINE_TYPE = 2;
const MAX_TYPE_IDS = 0x10000;
/** `String.fromCharCode` takes arguments; stay well under the engine's limit. */
const CHUNK = 8192;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Interns type URLs as 2-byte ids (most caches see a handful of types). */
export class TypeUrlTable {
  readonly #ids = new Map<string, number>();
  readonly #urls: string[] = [];

  /** The id of `typeUrl`, assigned on first sight; `undefined` once full. */
  idOf(typeUrl: string): number | undefined {
    let id = this.#ids.get(typeUrl);
    if (id === undefined && this.#urls.length < MAX_TYPE_IDS) {
      id = this.#urls.length;
      this.#urls.push(typeUrl);
      this.#ids.set(typeUrl, id);
    }
    return id;
  }

  /** The type URL of an id. */
  urlOf(id: number): string {
    return this.#urls[id] ?? "";
  }
}

/** Packs a value (and its version, if any) into a one-byte string. */
export function packValue(
  table: TypeUrlTable,
  typeUrl: string,
  value: Uint8Array,
  version: number | undefined,
): string {
  const id = table.idOf(typeUrl);
  let flags = 0;
  const head: number[] = [0];
  if (id !== undefined) {
    head.push(id >> 8, id & 0xff);
  } else {
    flags |= INLINE_TYPE;
    const bytes = utf8.encode(typeUrl);
    head.push(bytes.length >> 8, bytes.length & 0xff, ...bytes);
  }
  if (version !== undefined) {
    flags |= HAS_VERSION;
    for (let shift = 48; shift >= 0; shift -= 8) {
      head.push(Math.floor(version / 2 ** shift) & 0xff);
    }
  }
  head[0] = flags;
  const bytes = new Uint8Array(head.length + value.length);
  bytes.set(head);
  bytes.set(value, head.length);
  return charsOf(bytes);
}

/**
 * A one-byte string with one character per byte. Made in one call where
 * possible: concatenating would leave a "cons" string (two halves and a
 * node) where one flat string is wanted.
 */
function charsOf(bytes: Uint8Array): string {
  const chars = (part: Uint8Array) =>
    String.fromCharCode.apply(null, part as unknown as number[]);
  if (bytes.length <= CHUNK) return chars(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    text += chars(bytes.subarray(i, i + CHUNK));
  }
  return text;
}

/** Unpacks a string made by {@linkcode packValue}. */
export function unpackValue(table: TypeUrlTable, packed: string): StoredValue {
  const flags = packed.charCodeAt(0);
  let at = 1;
  let typeUrl: string;
  const hi = packed.charCodeAt(at), lo = packed.charCodeAt(at + 1);
  at += 2;
  if (flags & INLINE_TYPE) {
    const length = hi << 8 | lo;
    typeUrl = utf8Decoder.decode(bytesOf(packed, at, at + length));
    at += length;
  } else {
    typeUrl = table.urlOf(hi << 8 | lo);
  }
  let version: number | undefined;
  if (flags & HAS_VERSION) {
    version = 0;
    for (let i = 0; i < 7; i++) {
      version = version * 256 + packed.charCodeAt(at + i);
    }
    at += 7;
  }
  const value = bytesOf(packed, at, packed.length);
  return version === undefined
    ? { typeUrl, value }
    : { typeUrl, value, version };
}

/** The version of a packed value, without unpacking the rest. */
export function packedVersion(packed: string): number | undefined {
  const flags = packed.charCodeAt(0);
  if (!(flags & HAS_VERSION)) return undefined;
  let at = 3;
  if (flags & INLINE_TYPE) {
    at += packed.charCodeAt(1) << 8 | packed.charCodeAt(2);
  }
  let version = 0;
  for (let i = 0; i < 7; i++) {
    version = version * 256 + packed.charCodeAt(at + i);
  }
  return version;
}

function bytesOf(packed: string, from: number, to: number): Uint8Array {
  const bytes = new Uint8Array(to - from);
  for (let i = from; i < to; i++) bytes[i - from] = packed.charCodeAt(i);
  return bytes;
}
