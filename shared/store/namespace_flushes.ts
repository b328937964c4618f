/**
 * The namespaces a store has flushed, each with the version it was flushed
 * at: an entry of a flushed namespace whose version is not above that is
 * invisible (reads see a miss, writes replace it), so a flush costs one
 * table entry, whatever the number of keys. The hidden entries are
 * reclaimed lazily: dropped when a lookup meets them, evicted like any
 * other, or removed by the store's next sweep, after which the table
 * forgets the namespace. Until then they stay charged, and so is the table
 * ({@linkcode flushBytes} per namespace, at most
 * {@linkcode MAX_FLUSHED_NAMESPACES}).
 *
 * @module
 */

/** How many namespaces the table holds at most between two sweeps. */
export const MAX_FLUSHED_NAMESPACES = 4096;

/**
 * The memory charged for one flushed namespace: its cache key prefix
 * (twice its length, as UTF-16) and about 128 bytes of map slot and number.
 */
export function flushBytes(prefixLength: number): number {
  return 128 + 2 * prefixLength;
}

/**
 * The prefix every cache key of a namespace starts with (see
 * `shared/wire/cache_key.ts`): its length, a colon, the namespace.
 */
export function namespacePrefix(namespace: string): string {
  return `${namespace.length}:${namespace}`;
}

/** The namespace prefix of a cache key, or the whole key if it has none. */
export function prefixOf(key: string): string {
  const colon = key.indexOf(":");
  if (colon <= 0) return key;
  const length = Number(key.slice(0, colon));
  return Number.isSafeInteger(length) ? key.slice(0, colon + 1 + length) : key;
}

/** Flushed namespaces by cache key prefix, with their flush versions. */
export class NamespaceFlushes {
  readonly #versions = new Map<string, number>();
  /** Bytes charged for the namespaces held. */
  byteLength = 0;

  /** How many namespaces are held. */
  get size(): number {
    return this.#versions.size;
  }

  /** Whether the table is full (the store sweeps before adding more). */
  get full(): boolean {
    return this.#versions.size >= MAX_FLUSHED_NAMESPACES;
  }

  /**
   * Records a flush of the namespace with this prefix at `version`; a later
   * flush at a higher version replaces it.
   *
   * @returns The bytes this added to {@linkcode byteLength}.
   */
  flush(prefix: string, version: number): number {
    const held = this.#versions.get(prefix);
    if (held !== undefined) {
      this.#versions.set(prefix, Math.max(held, version));
      return 0;
    }
    this.#versions.set(prefix, version);
    const charge = flushBytes(prefix.length);
    this.byteLength += charge;
    return charge;
  }

  /** Whether an entry of `key` at `version` was flushed away. */
  hides(key: string, version: number): boolean {
    const flushed = this.#versions.get(prefixOf(key));
    return flushed !== undefined && version <= flushed;
  }

  /** Forgets every flush (after a sweep removed what they hid). */
  clear(): void {
    this.#versions.clear();
    this.byteLength = 0;
  }
}
