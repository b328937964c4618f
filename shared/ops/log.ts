/**
 * Levelled, per-module logging, one line per event on stderr.
 *
 * The level and format are process-wide, set once from `--log-level` and
 * `--log-format`; shard workers are told them when they start.
 *
 * `shared/ops/` is what operators run and watch a process with: this log,
 * Prometheus metrics (`metrics.ts`), OpenTelemetry tracing (`tracing.ts`),
 * signal handling (`signals.ts`), the runtime check (`runtime.ts`) and the
 * version (`version.ts`).
 *
 * @module
 */

/** The log levels, from most to least verbose. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The log line formats. */
export const LOG_FORMATS = ["text", "json"] as const;

/** One of {@linkcode LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

let threshold = LOG_LEVELS.indexOf("info");
let format: LogFormat = "text";

/**
 * Sets the process-wide line format: `text`
 * (`<time> <level> <module>: <message>`) or `json`
 * (`{"time","level","module","msg"}`).
 */
export function setLogFormat(value: LogFormat): void {
  format = value;
}

/** Returns the process-wide line format. */
export function getLogFormat(): LogFormat {
  return format;
}

/** Tells whether `value` names a log format. */
export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

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
    const time = new Date().toISOString();
    console.error(
      format === "json"
        ? JSON.stringify({ time, level, module: name, msg: message })
        : `${time} ${level} ${name}: ${message}`,
    );
  };
  return {
    debug: (message) => write("debug", message),
    info: (message) => write("info", message),
    warn: (message) => write("warn", message),
    error: (message) => write("error", message),
  };
}
