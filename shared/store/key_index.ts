/**
 * Finds a store's entries by key: the key is encoded once into a reusable
 * UTF-8 buffer, hashed, and looked up in a {@linkcode HashIndex}, whose
 * hash matches are confirmed against the keys held in the entries.
 *
 * @module
 */
import type { Entries } from "./entries.ts";
import {
  hashBytes,
  HashIndex,
  INITIAL_SLOTS,
  SLOT_BYTES,
} from "./hash_index.ts";
import { Utf8Buffer } from "./utf8_buffer.ts";

/** Bytes of an empty index. */
export const INITIAL_INDEX_BYTES = INITIAL_SLOTS * SLOT_BYTES;

/** The index from keys to entries, with the key last looked up. */
export class KeyIndex {
  /** The key last looked up, as UTF-8. */
  readonly key: Utf8Buffer;
  /** Its hash. */
  hash = 0;
  readonly #entries: Entries;
  readonly #hashOf = (ref: number): number => this.#entries.hash(ref);
  #index = new HashIndex(this.#hashOf);

  /**
   * @param entries Where the keys are held.
   * @param maxKeyBytes The longest key, in UTF-8 bytes.
   */
  constructor(entries: Entries, maxKeyBytes: number) {
    this.#entries = entries;
    this.key = new Utf8Buffer("key", maxKeyBytes);
  }

  /** Keys indexed. */
  get size(): number {
    return this.#index.size;
  }

  /** Bytes the index takes. */
  get byteLength(): number {
    return this.#index.byteLength;
  }

  /** Bytes the index will take after one more insertion. */
  bytesAfterInsert(): number {
    return this.#index.bytesAfterInsert();
  }

  /** Looks `key` up (it becomes the current key); its entry's ref, or 0. */
  find(key: string): number {
    this.hash = hashBytes(this.key.bytes, this.key.encode(key));
    const slot = this.#index.find(this.hash, this.#matchesKey);
    return slot < 0 ? 0 : this.#index.refAt(slot);
  }

  /** Indexes `ref` under the current key, which it must hold. */
  insert(ref: number): void {
    this.#index.insert(this.hash, ref);
  }

  /** Drops `ref` from the index. */
  remove(ref: number): void {
    this.#index.removeAt(this.#index.slotOf(this.#entries.hash(ref), ref));
  }

  /** Empties an index that holds nothing, giving back what it grew to. */
  shrink(): void {
    if (this.#index.size !== 0) return;
    this.#index.release();
    this.#index = new HashIndex(this.#hashOf);
  }

  readonly #matchesKey = (ref: number): boolean => {
    const length = this.key.length;
    if (this.#entries.keyLength(ref) !== length) return false;
    const u8 = this.#entries.u8, key = this.key.bytes;
    const start = this.#entries.keyStart(ref);
    for (let i = 0; i < length; i++) {
      if (u8[start + i] !== key[i]) return false;
    }
    return true;
  };
}
