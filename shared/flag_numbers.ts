/**
 * Parsers of the numeric flag values: whole numbers within bounds and
 * byte sizes with units. Re-exported by `flags.ts`.
 *
 * @module
 */
import { UsageError } from "./usage_error.ts";

/**
 * Parses a whole number within bounds.
 *
 * @throws {UsageError} when it is not one.
 */
export function parseInteger(
  name: string,
  text: string,
  min: number,
  max: number,
): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}: received "${text}"`,
    );
  }
  return n;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size: a whole number with an optional unit (`B`, `KB`,
 * `MB`, `GB`, `KiB`, `MiB`, `GiB`).
 *
 * @example
 * ```ts
 * parseSize("max-bytes", "256MiB"); // 268435456
 * ```
 * @throws {UsageError} when it is not one.
 */
export function parseSize(name: string, text: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? "?"];
  const n = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `--${name} must be a size such as 1048576, 64MiB or 1GiB: received "${text}"`,
    );
  }
  return n;
}
