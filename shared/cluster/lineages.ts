/**
 * {@linkcode Lineages}: for each key a replica decided on lately, the
 * versions its state descends from, so that a replica can tell whether a
 * state another replica holds already includes one of its own operations
 * (see `apply_decider.ts`). A key's lineage is kept while operations on it
 * are in flight and for {@linkcode LINEAGE_MS} after; it keeps a few
 * versions until two replicas meet on the key (`contended`), and up to
 * {@linkcode MAX_CONTENDED_VERSIONS} from then on.
 *
 * @module
 */

/** The versions a key's state here descends from (its own included). */
export interface Lineage {
  /** Operations on the key in flight here. */
  users: number;
  /** Another replica decided on this key too: forwards carry the whole lineage. */
  contended: boolean;
  /** The version of the state the set describes (-1: none yet). */
  of: number;
  /** The versions, oldest first. */
  versions: Set<number>;
  /** When the last operation on it ended. */
  idleSince: number;
}

/** How long a lineage is kept after its last operation, in ms. */
export const LINEAGE_MS = 10_000;
/** How many keys' lineages are kept at most (idle ones are forgotten first). */
export const MAX_LINEAGES = 4096;
/** How many versions a contended lineage keeps. */
export const MAX_CONTENDED_VERSIONS = 512;
/** How many versions a lineage keeps before two replicas met on its key. */
const MAX_QUIET_VERSIONS = 8;

/** The lineages of the keys decided on lately. */
export class Lineages {
  readonly #byKey = new Map<string, Lineage>();
  readonly #now: () => number;

  /**
   * @param now A monotonic clock in ms.
   * @default performance.now
   */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** The lineage of `key`, if kept. */
  get(key: string): Lineage | undefined {
    const lineage = this.#byKey.get(key);
    if (lineage === undefined || lineage.users > 0) return lineage;
    if (this.#now() - lineage.idleSince < LINEAGE_MS) return lineage;
    this.#byKey.delete(key);
    return undefined;
  }

  /** The lineage of `key`, made if need be, with one more operation in flight. */
  enter(key: string): Lineage {
    let lineage = this.get(key);
    if (lineage === undefined) {
      lineage = {
        users: 0,
        contended: false,
        of: -1,
        versions: new Set(),
        idleSince: 0,
      };
    }
    // Most recently used last, so that idle ones are forgotten first.
    this.#byKey.delete(key);
    this.#byKey.set(key, lineage);
    lineage.users++;
    return lineage;
  }

  /** One operation on the lineage's key is done. */
  leave(lineage: Lineage): void {
    if (--lineage.users > 0) return;
    lineage.idleSince = this.#now();
    if (this.#byKey.size <= MAX_LINEAGES) return;
    for (const [key, old] of this.#byKey) {
      if (this.#byKey.size <= MAX_LINEAGES) break;
      if (old.users === 0) this.#byKey.delete(key);
    }
  }
}

/** Makes `lineage` the state of `version`, descended from `versions`. */
export function descend(
  lineage: Lineage,
  versions: Set<number>,
  version: number,
): void {
  versions.add(version);
  const max = lineage.contended ? MAX_CONTENDED_VERSIONS : MAX_QUIET_VERSIONS;
  for (const old of versions) {
    if (versions.size <= max) break;
    versions.delete(old);
  }
  lineage.versions = versions;
  lineage.of = version;
}
