/**
 * A hybrid logical clock for write versions: wall-clock milliseconds times
 * 1000 plus a counter, so versions from one frontend always increase (even
 * if the wall clock steps back) and versions from different frontends
 * order by time. A frontend also moves its clock past every version it
 * meets ({@linkcode HybridLogicalClock.observe}), so that a write it
 * stamps after meeting a version is newer than that version whatever the
 * wall clocks of the frontends say. The result stays below 2^53, so it is an exact JS number
 * and an exact uint64 on the wire, until the year 2255.
 *
 * @module
 */

/** Ticks per millisecond: up to 1000 versions per ms before borrowing the next ms. */
const TICKS_PER_MS = 1000;

/** Issues increasing versions. */
export class HybridLogicalClock {
  readonly #now: () => number;
  #last = 0;

  /**
   * @param now The wall clock in ms; tests pass a fake one.
   * @default Date.now
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
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
    const physical = Math.floor(this.#now()) * TICKS_PER_MS;
    this.#last = physical > this.#last ? physical : this.#last + 1;
    return this.#last;
  }
}
