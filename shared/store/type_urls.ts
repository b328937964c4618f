/**
 * The type URLs a store's entries share, each held once: most caches see a
 * handful of types, and a type URL (`type.googleapis.com/google.protobuf.
 * BytesValue`, 46 bytes) is often a third of a small entry. An entry names
 * its type URL by a 16-bit id; the table counts the entries using each id
 * and forgets a URL when its last entry goes, so it holds only what is in
 * use, never more than {@linkcode MAX_TYPE_URLS} URLs of at most
 * {@linkcode MAX_INTERNED_BYTES} bytes, and its memory is charged to the
 * store's budget ({@linkcode typeUrlBytes} each). Anything else is stored
 * in the entry itself.
 *
 * @module
 */

/** How many type URLs the table holds at most. */
export const MAX_TYPE_URLS = 4096;
/** The longest type URL the table holds, in UTF-8 bytes. */
export const MAX_INTERNED_BYTES = 256;
/** The id an entry uses for a type URL it holds itself. */
export const INLINE_TYPE_URL = 0xffff;

import { Utf8Buffer } from "./utf8_buffer.ts";

/** Where a write's type URL goes: the table, or the entry itself. */
export interface TypeUrlPlan {
  /** Its UTF-8 length. */
  length: number;
  /** Whether the table holds it (or will). */
  interned: boolean;
  /** What adding it to the table costs: 0 if it is there or goes inline. */
  charge: number;
}

/**
 * The memory charged for one type URL in the table: its text and bytes
 * (twice its length) and about 128 bytes of objects and map slot.
 */
export function typeUrlBytes(utf8Length: number): number {
  return 128 + 2 * utf8Length;
}

/** Type URLs by id, counted by use. */
export class TypeUrlTable {
  /** The type URL last planned, as UTF-8. */
  readonly utf8: Utf8Buffer;
  readonly #ids = new Map<string, number>();
  readonly #texts: string[] = [];
  readonly #bytes: Uint8Array[] = [];
  readonly #uses: number[] = [];
  readonly #freeIds: number[] = [];
  /** Bytes charged for the URLs held. */
  byteLength = 0;

  /** @param maxBytes The longest type URL an entry can hold. */
  constructor(maxBytes: number) {
    this.utf8 = new Utf8Buffer("type URL", maxBytes);
  }

  /**
   * Encodes `text` into {@linkcode utf8} and says where it would go. An
   * empty type URL (a tombstone's) goes inline, at 2 bytes.
   */
  plan(text: string): TypeUrlPlan {
    const length = this.utf8.encode(text);
    const known = this.#ids.has(text);
    const interned = known ||
      (length > 0 && length <= MAX_INTERNED_BYTES &&
        this.#ids.size < MAX_TYPE_URLS);
    return {
      length,
      interned,
      charge: known || !interned ? 0 : typeUrlBytes(length),
    };
  }

  /**
   * Counts one more use of `text`, the URL last planned, adding it if it
   * is not held (any more); returns its id.
   */
  acquire(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) id = this.#add(text, this.utf8.view());
    this.#uses[id]!++;
    return id;
  }

  #add(text: string, utf8: Uint8Array): number {
    const id = this.#freeIds.pop() ?? this.#texts.length;
    this.#ids.set(text, id);
    this.#texts[id] = text;
    this.#bytes[id] = utf8.slice();
    this.#uses[id] = 0;
    this.byteLength += typeUrlBytes(utf8.length);
    return id;
  }

  /** Counts one entry less using `id`; forgets the URL with its last use. */
  release(id: number): void {
    if (--this.#uses[id]! > 0) return;
    const text = this.#texts[id]!;
    this.byteLength -= typeUrlBytes(this.#bytes[id]!.length);
    this.#ids.delete(text);
    this.#texts[id] = "";
    this.#bytes[id] = EMPTY;
    this.#freeIds.push(id);
  }

  /** The text of `id`. */
  textOf(id: number): string {
    return this.#texts[id]!;
  }

  /** The UTF-8 bytes of `id`. */
  bytesOf(id: number): Uint8Array {
    return this.#bytes[id]!;
  }

  /** How many URLs the table holds. */
  get size(): number {
    return this.#ids.size;
  }
}

const EMPTY = new Uint8Array(0);
