/**
 * A reusable buffer that holds one string as UTF-8, so that looking up or
 * writing a key allocates nothing.
 *
 * @module
 */
import { InvalidArgumentError } from "../wire/errors.ts";

const utf8 = new TextEncoder();

/**
 * Writes `text` as UTF-8 into `bytes` from `at` (which must have room for
 * it) and returns its length. ASCII text (its UTF-8 is its char codes) is
 * copied by char code: keys and type URLs nearly always are, and this
 * makes no object per call where `encodeInto` makes its `{ read, written }`
 * result (and a view of `bytes` when `at` is not 0). The shard worker
 * encodes every key it is given, and those objects were a good part of
 * what its young generation churned through under writes.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(16);
 * utf8Into("héllo", bytes, 2); // 6
 * ```
 */
export function utf8Into(text: string, bytes: Uint8Array, at = 0): number {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      const target = at === 0 ? bytes : bytes.subarray(at);
      return utf8.encodeInto(text, target).written;
    }
    bytes[at + i] = code;
  }
  return length;
}

/** One string's UTF-8 bytes, in a buffer that grows as needed. */
export class Utf8Buffer {
  /** The bytes; the first `length` are the string's. */
  bytes = new Uint8Array(4096);
  /** How many bytes the last string took. */
  length = 0;
  readonly #what: string;
  readonly #max: number;

  /**
   * @param what What the strings are, for messages ("key").
   * @param max The most UTF-8 bytes a string may take.
   */
  constructor(what: string, max: number) {
    this.#what = what;
    this.#max = max;
  }

  /**
   * Encodes `text`; returns its UTF-8 length.
   *
   * @throws {InvalidArgumentError} when it is longer than the maximum.
   */
  encode(text: string): number {
    if (this.bytes.length < text.length * 3) {
      this.bytes = new Uint8Array(text.length * 3);
    }
    const length = utf8Into(text, this.bytes);
    if (length > this.#max) {
      throw new InvalidArgumentError(
        `${this.#what} is ${length} bytes: the store holds at most ${this.#max}`,
      );
    }
    this.length = length;
    return length;
  }

  /** The last string's bytes, as a view. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
