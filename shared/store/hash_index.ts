/**
 * A compact hash index from keys to arena chunks: open addressing with
 * linear probing in one `Uint32Array`, one word a slot: the chunk's ref
 * (29 bits: an arena of at most 4 GiB, in 8-byte units) and a 3-bit tag
 * from the top of the key's hash; 0 marks an empty slot. 4 bytes a slot
 * and no object per entry. The full hash stays in the entry, where the
 * owner's `hashOf` reads it to place a slot when the table grows or a
 * deletion shifts slots back (so no tombstones accumulate). The keys
 * themselves stay in the arena too: a tag match is confirmed by comparing
 * them, which a key that is not there needs about once per lookup at 3/4
 * load (8.5 probes, 1 in 8 tags equal).
 *
 * @module
 */

/** Bytes one slot takes. */
export const SLOT_BYTES = 4;
/** Slots of a new index. */
export const INITIAL_SLOTS = 8;
/** The index doubles before more than this share of its slots is taken. */
export const MAX_LOAD = 0.75;
/** The largest ref a slot holds. */
export const MAX_REF = 2 ** 29 - 1;

const TAG_BITS = 3;
const TAG_MASK = (1 << TAG_BITS) - 1;

/** A slot's tag: the hash's top bits, apart from the low ones that pick its home. */
function tagOf(hash: number): number {
  return hash >>> (32 - TAG_BITS);
}

/**
 * 32-bit FNV-1a of `length` bytes, with a Murmur3 finaliser so that the
 * low bits (the home slot) depend on every byte. Seeded apart from the
 * router's hash: keys of one shard share their router hash modulo the
 * shard count, which must not bias the slots they take.
 */
export function hashBytes(bytes: Uint8Array, length: number): number {
  let h = 0x9dc5811c ^ 0x5bd1e995;
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Maps 32-bit hashes to refs; several keys may share a hash (or a tag), and
 * the owner's `matches` tells them apart.
 *
 * @example
 * ```ts
 * const hashes = new Map<number, number>([[1, 0xdeadbeef]]);
 * const index = new HashIndex((ref) => hashes.get(ref)!);
 * index.insert(0xdeadbeef, 1);
 * index.refAt(index.find(0xdeadbeef, (ref) => ref === 1)); // 1
 * ```
 */
export class HashIndex {
  #table = new Uint32Array(INITIAL_SLOTS);
  #mask = INITIAL_SLOTS - 1;
  readonly #hashOf: (ref: number) => number;
  /** Slots taken. */
  size = 0;

  /** @param hashOf The hash of the key a ref holds (as inserted). */
  constructor(hashOf: (ref: number) => number) {
    this.#hashOf = hashOf;
  }

  /** Bytes the index takes. */
  get byteLength(): number {
    return this.#table.byteLength;
  }

  /** Frees the table now; the index must not be used afterwards. */
  release(): void {
    this.#table.buffer.transfer(0);
  }

  /** Bytes the index will take after its next insertion. */
  bytesAfterInsert(): number {
    const slots = this.#mask + 1;
    return (this.size + 1 > slots * MAX_LOAD ? 2 : 1) * this.byteLength;
  }

  /**
   * The slot holding the key with `hash` for which `matches(ref)` holds,
   * or -1.
   */
  find(hash: number, matches: (ref: number) => boolean): number {
    const table = this.#table;
    const mask = this.#mask;
    const tag = tagOf(hash);
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const word = table[slot]!;
      if (word === 0) return -1;
      if ((word & TAG_MASK) === tag && matches(word >>> TAG_BITS)) return slot;
    }
  }

  /** The slot holding `ref`, inserted with `hash`, or -1. */
  slotOf(hash: number, ref: number): number {
    const table = this.#table;
    const mask = this.#mask;
    const word = slotWord(hash, ref);
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const held = table[slot]!;
      if (held === 0) return -1;
      if (held === word) return slot;
    }
  }

  /** The ref in `slot`. */
  refAt(slot: number): number {
    return this.#table[slot]! >>> TAG_BITS;
  }

  /** Adds a key known to be absent, doubling the table first if needed. */
  insert(hash: number, ref: number): void {
    checkRef(ref);
    if (this.size + 1 > (this.#mask + 1) * MAX_LOAD) this.#grow();
    this.#place(this.#table, this.#mask, hash, slotWord(hash, ref));
    this.size++;
  }

  /** Empties `slot`, moving later slots of the same run back into the gap. */
  removeAt(slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let gap = slot;
    for (let next = (gap + 1) & mask;; next = (next + 1) & mask) {
      const word = table[next]!;
      if (word === 0) break;
      const home = this.#hashOf(word >>> TAG_BITS) & mask;
      // Move `next` back unless its home lies after the gap, up to it.
      const stays = gap <= next
        ? gap < home && home <= next
        : gap < home || home <= next;
      if (stays) continue;
      table[gap] = word;
      gap = next;
    }
    table[gap] = 0;
    this.size--;
  }

  #grow(): void {
    const old = this.#table;
    const slots = old.length * 2;
    const table = new Uint32Array(slots);
    for (const word of old) {
      if (word !== 0) {
        this.#place(table, slots - 1, this.#hashOf(word >>> TAG_BITS), word);
      }
    }
    this.#table = table;
    this.#mask = slots - 1;
    // Freed now, not at the worker's next collection, which may be far off:
    // the old tables of every doubling would stay resident until then.
    old.buffer.transfer(0);
  }

  #place(table: Uint32Array, mask: number, hash: number, word: number): void {
    let slot = hash & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = word;
  }
}

/** The word a slot holds for `ref` under `hash`. */
function slotWord(hash: number, ref: number): number {
  return (ref << TAG_BITS | tagOf(hash)) >>> 0;
}

/** @throws {RangeError} when `ref` does not fit a slot. */
function checkRef(ref: number): void {
  if (!(ref >= 1 && ref <= MAX_REF)) {
    throw new RangeError(
      `Cannot index ref ${ref}: refs run from 1 to ${MAX_REF}`,
    );
  }
}
