/**
 * The error of a usage mistake on the command line, thrown by flag parsing
 * and by roles; `main.ts` prints it with a hint and exits 2. Re-exported
 * by `flags.ts`.
 *
 * @module
 */

/** A usage mistake: printed with a hint, exit code 2. */
export class UsageError extends Error {
  /** @param message What was wrong with the command line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
