/**
 * An independent reference for shard placement: FNV-1a (32-bit) and
 * MurmurHash3's fmix32, written again with BigInt arithmetic from their
 * published definitions, so that tests do not place keys with the
 * product's own `hashKey`. `shared/wire/cache_key_test.ts` checks it
 * against the published test vectors of both.
 *
 * @module
 */

const MASK = 0xffffffffn;

/** FNV-1a, 32-bit, over a sequence of units (bytes, or UTF-16 code units). */
export function fnv1a32(units: Iterable<number>): number {
  let h = 2166136261n; // the FNV-1a 32-bit offset basis
  for (const unit of units) {
    h ^= BigInt(unit);
    h = (h * 16777619n) & MASK; // the FNV 32-bit prime
  }
  return Number(h);
}

/** MurmurHash3's 32-bit finalizer (fmix32). */
export function fmix32(value: number): number {
  let h = BigInt(value >>> 0);
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & MASK;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & MASK;
  h ^= h >> 16n;
  return Number(h);
}

/** The UTF-16 code units of `text`. */
function* utf16Units(text: string): Iterable<number> {
  for (let i = 0; i < text.length; i++) yield text.charCodeAt(i);
}

/**
 * The shard a key of a namespace goes to among `count`, as the README
 * defines routing: fmix32(FNV-1a over the UTF-16 units of
 * `<namespace length>:<namespace><key>`) modulo the shard count (README,
 * "How it works").
 */
export function referenceShardOf(
  namespace: string,
  key: string,
  count: number,
): number {
  const joined = `${namespace.length}:${namespace}${key}`;
  return fmix32(fnv1a32(utf16Units(joined))) % count;
}
