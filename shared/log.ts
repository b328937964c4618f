/**
 * Levelled, per-module logging, one line per event on stderr.
 *
 * The level is process-wide and set once from `--log-level` (or the
 * `GANACHE_LOG_LEVEL` environment variable in workers, which inherit it).
 *
 * @module
 */

/** The log levels, from most to least verbose. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

let threshold = LOG_LEVELS.indexOf("info");

/**
 * Sets the process-wide level below which messages are dropped.
 *
 * @param level The least severe level that is still printed.
 */
export function setLogLevel(level: LogLevel): void {
  threshold = LOG_LEVELS.indexOf(level);
}

/** Returns the process-wide log level. */
export function getLogLevel(): LogLevel {
  return LOG_LEVELS[threshold] ?? "info";
}

/** Tells whether `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** A logger bound to one module name. */
export interface Logger {
  /** Detail for developers; off by default. */
  debug(message: string): void;
  /** A normal event an operator may want to see. */
  info(message: string): void;
  /** Something went wrong and was handled. */
  warn(message: string): void;
  /** Something went wrong and was not handled. */
  error(message: string): void;
}

/**
 * Returns a logger whose lines are tagged with `name`.
 *
 * @example
 * ```ts
 * const log = logger("worker_shard");
 * log.warn("shard 2 crashed; restarting");
 * ```
 */
export function logger(name: string): Logger {
  const write = (level: LogLevel, message: string) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    console.error(`${new Date().toISOString()} ${level} ${name}: ${message}`);
  };
  return {
    debug: (message) => write("debug", message),
    info: (message) => write("info", message),
    warn: (message) => write("warn", message),
    error: (message) => write("error", message),
  };
}
