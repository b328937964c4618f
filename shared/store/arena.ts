/**
 * A memory arena for one shard's entries: one `ArrayBuffer`, outside the
 * V8 heap, carved into variable-size chunks. Nothing in it is an object,
 * so the garbage collector has nothing to scan or churn.
 *
 * - Every chunk starts with a 4-byte word: its size (a multiple of 8) and
 *   two flags, {@linkcode FREE} and {@linkcode PREV_FREE}. A free chunk also
 *   repeats its size in its last 4 bytes, so that a chunk being freed can
 *   find and merge a free neighbour on either side in O(1).
 * - Free chunks sit in segregated free lists (exact 8-byte classes below
 *   1 KiB, four classes per power of two above) with a bitmap of the
 *   non-empty ones, so an allocation finds a fit in a few word scans.
 * - Memory past `top` has never been handed out, so the operating system
 *   has not backed it with pages yet: a shard's resident memory grows with
 *   what it holds, up to the limit its owner sets.
 *
 * Offsets are in bytes; a chunk is named by its *ref*, its offset / 8.
 * Ref 0 is never a chunk. Sizes are 32-bit words, so an arena holds at
 * most {@linkcode MAX_ARENA_BYTES}.
 *
 * @module
 */

/** Flag: the chunk is free. */
const FREE = 1;
/** Flag: the chunk just before this one is free. */
const PREV_FREE = 2;
const FLAGS = FREE | PREV_FREE;

/** The largest arena: every chunk size, even a merged free one, fits 32 bits. */
export const MAX_ARENA_BYTES = 2 ** 32 - 8;
/** Chunk offsets and sizes are multiples of this. */
export const ALIGN = 8;
/** The smallest chunk: header word, two list links and a footer fit. */
export const MIN_CHUNK = 48;

/** Offset of a free chunk's previous-in-list ref (the header's word 2). */
const FREE_PREV = 8;
/** Offset of a free chunk's next-in-list ref. */
const FREE_NEXT = 12;

const EXACT_LIMIT = 1024;
const EXACT_BINS = EXACT_LIMIT / ALIGN;
const BINS = 256;

/** Rounds a byte count up to the arena's alignment. */
export function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** The free list a chunk of `size` bytes sits in. */
function binOf(size: number): number {
  if (size < EXACT_LIMIT) return size >>> 3;
  const log2 = 31 - Math.clz32(size);
  return EXACT_BINS + (log2 - 10) * 4 + ((size >>> (log2 - 2)) & 3);
}

/**
 * A chunk allocator over one `ArrayBuffer`. Its owner keeps whatever it
 * likes in a chunk after the first 4 bytes.
 *
 * @example
 * ```ts
 * const arena = new Arena(1 << 20);
 * const ref = arena.allocate(64, arena.byteLength);
 * arena.u8[ref * 8 + 4] = 42;
 * arena.release(ref);
 * ```
 */
export class Arena {
  /** The arena's bytes. */
  readonly u8: Uint8Array;
  /** The same bytes as 32-bit words. */
  readonly u32: Uint32Array;
  /** The same bytes as 64-bit floats. */
  readonly f64: Float64Array;
  /** The arena's size in bytes. */
  readonly byteLength: number;
  /** Bytes in chunks handed out (their whole sizes). */
  usedBytes = 0;
  /** The end of the part handed out now; past it, free memory. */
  top = ALIGN;
  /** The highest `top` ever: past it, memory never touched (not resident). */
  peakTop = ALIGN;
  readonly #heads = new Uint32Array(BINS);
  readonly #nonEmpty = new Uint32Array(BINS / 32);

  /**
   * @param byteLength The arena's size in bytes, a multiple of 8.
   * @throws {RangeError} when it is not.
   */
  constructor(byteLength: number) {
    if (
      !Number.isSafeInteger(byteLength) || byteLength % ALIGN !== 0 ||
      byteLength < ALIGN || byteLength > MAX_ARENA_BYTES
    ) {
      throw new RangeError(
        `Cannot create arena: size must be a multiple of 8 up to ${MAX_ARENA_BYTES}: received ${byteLength}`,
      );
    }
    const buffer = new ArrayBuffer(byteLength);
    this.byteLength = byteLength;
    this.u8 = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /** The size in bytes of the chunk `ref`. */
  sizeOf(ref: number): number {
    return (this.u32[ref * 2]! & ~FLAGS) >>> 0;
  }

  /**
   * Hands out a chunk of at least `bytes` bytes (a multiple of 8, at least
   * {@linkcode MIN_CHUNK}), from the free lists or else from untouched
   * memory below `topLimit`.
   *
   * @returns The chunk's ref, or 0 when nothing fits.
   */
  allocate(bytes: number, topLimit: number): number {
    let ref = this.#takeFree(bytes);
    if (ref === 0) {
      if (this.top + bytes > Math.min(topLimit, this.byteLength)) return 0;
      ref = this.top / ALIGN;
      this.top += bytes;
      if (this.top > this.peakTop) this.peakTop = this.top;
      // The chunk before `top` is never free: freeing it lowers `top`.
      this.u32[ref * 2] = bytes;
    }
    this.usedBytes += this.sizeOf(ref);
    return ref;
  }

  /** Returns chunk `ref` to the arena, merging it with free neighbours. */
  release(ref: number): void {
    const u32 = this.u32;
    let offset = ref * ALIGN;
    let size = this.sizeOf(ref);
    this.usedBytes -= size;
    if (u32[offset >>> 2]! & PREV_FREE) {
      const prevSize = u32[(offset - 4) >>> 2]!;
      offset -= prevSize;
      this.#unlink(offset / ALIGN);
      size += prevSize;
    }
    const next = offset + size;
    if (next === this.top) {
      this.top = offset;
      return;
    }
    const nextWord = u32[next >>> 2]!;
    if (nextWord & FREE) {
      this.#unlink(next / ALIGN);
      size += (nextWord & ~FLAGS) >>> 0;
    }
    this.#makeFree(offset, size);
  }

  /** Bytes of untouched memory and free chunks: what could still be handed out. */
  get freeBytes(): number {
    return this.byteLength - ALIGN - this.usedBytes;
  }

  /** Takes a free chunk of at least `bytes`, splitting off any large remainder. */
  #takeFree(bytes: number): number {
    let bin = binOf(bytes);
    let ref = this.#heads[bin]!;
    // Above 1 KiB a class spans sizes; its first chunk may be too small.
    if (ref === 0 || this.sizeOf(ref) < bytes) {
      bin = this.#firstNonEmpty(bin + 1);
      if (bin < 0) return 0;
      ref = this.#heads[bin]!;
    }
    this.#unlink(ref);
    const u32 = this.u32;
    const offset = ref * ALIGN;
    const size = this.sizeOf(ref);
    if (size - bytes >= MIN_CHUNK) {
      u32[offset >>> 2] = bytes;
      // The remainder's successor already knows its predecessor is free.
      this.#makeFree(offset + bytes, size - bytes);
    } else {
      u32[offset >>> 2] = size;
      const next = offset + size;
      if (next < this.top) u32[next >>> 2] = u32[next >>> 2]! & ~PREV_FREE;
    }
    return ref;
  }

  /** Marks `size` bytes at `offset` free and files them in their list. */
  #makeFree(offset: number, size: number): void {
    const u32 = this.u32;
    u32[offset >>> 2] = size | FREE;
    u32[(offset + size - 4) >>> 2] = size;
    const next = offset + size;
    if (next < this.top) u32[next >>> 2] = u32[next >>> 2]! | PREV_FREE;
    const ref = offset / ALIGN;
    const bin = binOf(size);
    const head = this.#heads[bin]!;
    u32[(offset + FREE_PREV) >>> 2] = 0;
    u32[(offset + FREE_NEXT) >>> 2] = head;
    if (head !== 0) u32[(head * ALIGN + FREE_PREV) >>> 2] = ref;
    this.#heads[bin] = ref;
    this.#nonEmpty[bin >>> 5] = this.#nonEmpty[bin >>> 5]! | (1 << (bin & 31));
  }

  /** Takes free chunk `ref` out of its list. */
  #unlink(ref: number): void {
    const u32 = this.u32;
    const offset = ref * ALIGN;
    const prev = u32[(offset + FREE_PREV) >>> 2]!;
    const next = u32[(offset + FREE_NEXT) >>> 2]!;
    if (prev !== 0) u32[(prev * ALIGN + FREE_NEXT) >>> 2] = next;
    else {
      const bin = binOf(this.sizeOf(ref));
      this.#heads[bin] = next;
      if (next === 0) {
        this.#nonEmpty[bin >>> 5] = this.#nonEmpty[bin >>> 5]! &
          ~(1 << (bin & 31));
      }
    }
    if (next !== 0) u32[(next * ALIGN + FREE_PREV) >>> 2] = prev;
  }

  /** The first non-empty free list at or after `bin`, or -1. */
  #firstNonEmpty(bin: number): number {
    for (let word = bin >>> 5; word < this.#nonEmpty.length; word++) {
      let bits = this.#nonEmpty[word]!;
      if (word === bin >>> 5) bits &= ~0 << (bin & 31);
      if (bits !== 0) return word * 32 + 31 - Math.clz32(bits & -bits);
    }
    return -1;
  }
}
