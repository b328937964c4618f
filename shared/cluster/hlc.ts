/**
 * A hybrid logical clock for write versions: wall-clock milliseconds times
 * 1000 plus a counter, so versions from one frontend always increase (even
 * if the wall clock steps back) and versions from different frontends
 * order by time. A frontend also moves its clock past every version it
 * meets ({@linkcode HybridLogicalClock.observe}), so that a write it
 * stamps after meeting a version is newer than that version whatever the
 * wall clocks of the frontends say.
 *
 * Each clock issues only versions congruent to its `node` modulo
 * {@linkcode NODES}, so two frontends with different nodes never issue the
 * same version: a replica's answer "I hold your version" then means the
 * write was applied, not that it tied with another frontend's. The result
 * stays below 2^53, so it is an exact JS number and an exact uint64 on the
 * wire, until the year 2255.
 *
 * @module
 */

/** Ticks per millisecond. */
const TICKS_PER_MS = 1000;
/** Node tags: a clock issues up to 1000 / 16 versions per ms before borrowing the next ms. */
export const NODES = 16;

/** Issues increasing versions. */
export class HybridLogicalClock {
  readonly #now: () => number;
  readonly #node: number;
  #last = 0;

  /**
   * @param now The wall clock in ms; tests pass a fake one.
   * @default Date.now
   * @param node This clock's tag, 0 to {@linkcode NODES} - 1.
   * @default a random one
   */
  constructor(
    now: () => number = Date.now,
    node = Math.floor(Math.random() * NODES),
  ) {
    if (!(Number.isInteger(node) && node >= 0 && node < NODES)) {
      throw new RangeError(
        `Cannot make a clock: node must be 0 to ${NODES - 1}: received ${node}`,
      );
    }
    this.#now = now;
    this.#node = node;
  }

  /**
   * Moves the clock past `version`: every later {@linkcode next} is above
   * it. Versions at or below the clock change nothing.
   */
  observe(version: number): void {
    if (version > this.#last) this.#last = version;
  }

  /** The next version: above every version issued or observed before. */
  next(): number {
    const physical = Math.floor(this.#now()) * TICKS_PER_MS + this.#node;
    if (physical > this.#last) {
      this.#last = physical;
    } else {
      const above = this.#last + 1;
      this.#last = above + ((this.#node - above % NODES) + NODES) % NODES;
    }
    return this.#last;
  }
}
