/**
 * Cache keys and their stable hash.
 *
 * A cache key joins a namespace and a key without ambiguity, so that
 * `("ab", "c")` and `("a", "bc")` are different keys (the original Ganache
 * concatenated them and they collided).
 *
 * @module
 */

/**
 * Joins a namespace and a key into one cache key: the namespace's length,
 * a colon, the namespace, then the key.
 *
 * @example
 * ```ts
 * cacheKey("ab", "c"); // "2:abc"
 * cacheKey("a", "bc"); // "1:abc"
 * ```
 */
export function cacheKey(namespace: string, key: string): string {
  return `${namespace.length}:${namespace}${key}`;
}

/**
 * A stable 32-bit hash of a cache key (FNV-1a over UTF-16 code units,
 * finished with MurmurHash3's avalanche step). It never changes between
 * versions or processes: routing depends on it.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
