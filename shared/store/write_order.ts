/**
 * Which of two writes of one key a replica keeps, so that every replica
 * keeps the same one whatever order the writes arrive in.
 *
 * @module
 */

/** One side of the comparison: a version, type URL bytes and value. */
export interface VersionedBytes {
  /** The write's version (0 for none). */
  version: number;
  /** Its type URL, as UTF-8. */
  typeUrl: Uint8Array;
  /** Its value. */
  value: Uint8Array;
}

/**
 * Whether `write` should replace `held`: a higher version wins; on equal
 * versions (two frontends in the same clock tick) the greater bytes win
 * (type URL, then value).
 */
export function replaces(write: VersionedBytes, held: VersionedBytes): boolean {
  if (write.version !== held.version) return write.version > held.version;
  return (compareBytes(write.typeUrl, held.typeUrl) ||
    compareBytes(write.value, held.value)) > 0;
}

/** Orders byte strings: by their first differing byte, then by length. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
