/**
 * A compact hash index from keys to arena chunks: open addressing with
 * linear probing in one `Uint32Array`, two words a slot (the key's 32-bit
 * hash and the chunk's ref; ref 0 marks an empty slot). 8 bytes a slot and
 * no object per entry; deletion shifts the following slots back, so no
 * tombstones accumulate. The keys themselves stay in the arena: the owner
 * confirms a hash match by comparing them.
 *
 * @module
 */

/** Bytes one slot takes. */
export const SLOT_BYTES = 8;
/** Slots of a new index. */
export const INITIAL_SLOTS = 8;
/** The index doubles before more than this share of its slots is taken. */
export const MAX_LOAD = 0.75;

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
 * Maps 32-bit hashes to refs; several keys may share a hash, and the
 * owner's `matches` tells them apart.
 */
export class HashIndex {
  #table = new Uint32Array(INITIAL_SLOTS * 2);
  #mask = INITIAL_SLOTS - 1;
  /** Slots taken. */
  size = 0;

  /** Bytes the index takes. */
  get byteLength(): number {
    return this.#table.byteLength;
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
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const ref = table[slot * 2 + 1]!;
      if (ref === 0) return -1;
      if (table[slot * 2] === hash && matches(ref)) return slot;
    }
  }

  /** The ref in `slot`. */
  refAt(slot: number): number {
    return this.#table[slot * 2 + 1]!;
  }

  /** Points `slot` (same key) at another ref. */
  replace(slot: number, ref: number): void {
    this.#table[slot * 2 + 1] = ref;
  }

  /** Adds a key known to be absent, doubling the table first if needed. */
  insert(hash: number, ref: number): void {
    if (this.size + 1 > (this.#mask + 1) * MAX_LOAD) this.#grow();
    this.#place(this.#table, this.#mask, hash, ref);
    this.size++;
  }

  /** Empties `slot`, moving later slots of the same run back into the gap. */
  removeAt(slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let gap = slot;
    for (let next = (gap + 1) & mask;; next = (next + 1) & mask) {
      const ref = table[next * 2 + 1]!;
      if (ref === 0) break;
      const home = table[next * 2]! & mask;
      // Move `next` back unless its home lies after the gap, up to it.
      const stays = gap <= next
        ? gap < home && home <= next
        : gap < home || home <= next;
      if (stays) continue;
      table[gap * 2] = table[next * 2]!;
      table[gap * 2 + 1] = ref;
      gap = next;
    }
    table[gap * 2] = 0;
    table[gap * 2 + 1] = 0;
    this.size--;
  }

  #grow(): void {
    const old = this.#table;
    const slots = (this.#mask + 1) * 2;
    const table = new Uint32Array(slots * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.#place(table, slots - 1, old[i]!, old[i + 1]!);
    }
    this.#table = table;
    this.#mask = slots - 1;
  }

  #place(table: Uint32Array, mask: number, hash: number, ref: number): void {
    let slot = hash & mask;
    while (table[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
    table[slot * 2] = hash;
    table[slot * 2 + 1] = ref;
  }
}
