/**
 * Durations as people type them on the command line: `60s`, `5m`, `1h`,
 * `250ms`, or a plain number of milliseconds.
 *
 * @module
 */
import { UsageError } from "../flags.ts";

const UNITS: Record<string, number> = {
  "": 1,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration into milliseconds: a whole number with an optional unit
 * (`ms`, `s`, `m`, `h`, `d`); no unit means milliseconds.
 *
 * @example
 * ```ts
 * parseDuration("ttl", "5m"); // 300000
 * parseDuration("ttl", "1500"); // 1500
 * ```
 * @param name The flag, for the message.
 * @param text What was typed.
 * @returns Milliseconds.
 * @throws {UsageError} when it is not a duration.
 */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? "?"];
  const ms = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new UsageError(
      `--${name} must be a duration such as 60s, 5m, 2h or 1500 (milliseconds): received "${text}"`,
    );
  }
  return ms;
}
