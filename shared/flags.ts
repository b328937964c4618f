/**
 * The command-line flags of a role: how a role declares them (a
 * {@linkcode RoleSpec}), how they are parsed (`node:util` `parseArgs`, then
 * `GANACHE_<FLAG>`, then the default) and how they are printed as help.
 * Each role declares its own flags beside its `run`; the flags several
 * roles share live here (logging, listening, capacity) or beside what they
 * configure (`frontend/frontend_flags.ts`, `cluster/etcd_flags.ts`).
 *
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  isLogFormat,
  isLogLevel,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./ops/log.ts";
import { parseInteger, parseSize } from "./flag_numbers.ts";
import { UsageError } from "./usage_error.ts";

export { parseInteger, parseSize } from "./flag_numbers.ts";
export { UsageError } from "./usage_error.ts";

/** One flag of a role. */
export interface Flag {
  /** A string flag takes a value; a boolean one is present or not. */
  type: "string" | "boolean";
  /** The value shown as `[default: …]`. */
  default?: string;
  /**
   * The value placeholder shown in help, e.g. `PORT`. A flag whose
   * placeholder is `DIR` or `FILE` names a path: a relative one given on the
   * command line or in `GANACHE_<FLAG>` is resolved from
   * {@linkcode ParseRoleOptions.cwd}, its default from the process's own
   * directory (both only when `cwd` is given).
   */
  value?: string;
  /** What it does, for help. */
  help: string;
}

/** A role's flags by name (without `--`), in the order help lists them. */
export type Flags = Record<string, Flag>;

/** What a role takes on the command line, and what its help says. */
export interface RoleSpec {
  /** e.g. `set NS KEY VALUE [flags]`. */
  usage: string;
  /** One line on what the role does. */
  summary: string;
  /**
   * Its positional arguments, by name, in order: `[NAME]` is optional,
   * `NAME...` takes one or more.
   */
  positionals: string[];
  /** Its own flags (`--log-level`, `--log-format` and `--help` are added). */
  flags: Flags;
}

/** The flags every role takes. */
const COMMON: Flags = {
  "log-level": {
    type: "string",
    default: "info",
    value: "LEVEL",
    help: `one of ${LOG_LEVELS.join(", ")}`,
  },
  "log-format": {
    type: "string",
    default: "text",
    value: "FORMAT",
    help: `one of ${LOG_FORMATS.join(", ")}: one line per event`,
  },
  help: { type: "boolean", help: "show this help" },
};

/**
 * The flags of a process that listens: where, and how it stops.
 *
 * @param port The default port.
 */
export function listenFlags(port: string): Flags {
  return {
    host: {
      type: "string",
      default: "127.0.0.1",
      value: "HOST",
      help: "interface to listen on",
    },
    port: {
      type: "string",
      default: port,
      value: "PORT",
      help: "port to listen on (0 picks a free one)",
    },
    "shutdown-grace-ms": {
      type: "string",
      default: "5000",
      value: "MS",
      help: "how long SIGINT/SIGTERM waits for calls in flight",
    },
    "metrics-port": {
      type: "string",
      value: "PORT",
      help:
        "serve Prometheus /metrics, /healthz and /readyz over HTTP on this port (default: off)",
    },
  };
}

/**
 * The `--max-bytes` flag of a role that holds data.
 *
 * @param help What the capacity is of.
 */
export function maxBytesFlag(help: string): Flag {
  return {
    type: "string",
    default: "256MiB",
    value: "SIZE",
    help: `${help} (e.g. 512MiB, 2GiB)`,
  };
}

/**
 * A role's flags after parsing. Each value comes from the command line,
 * else from `GANACHE_<FLAG>`, else from the flag's default.
 */
export interface FlagValues {
  /** The role the flags were given to, for messages. */
  readonly role: string;
  /** The positional arguments, as many as the role takes. */
  readonly positionals: string[];
  /** A string flag's value; `undefined` when unset and without default. */
  text(name: string): string | undefined;
  /** A boolean flag: given, or `GANACHE_<FLAG>` is 1, true, yes or on. */
  boolean(name: string): boolean;
  /**
   * A whole-number flag within bounds.
   *
   * @throws {UsageError} when it is not one.
   */
  integer(name: string, min: number, max: number): number;
  /**
   * Like {@linkcode FlagValues.integer}, or `undefined` when unset.
   *
   * @throws {UsageError} when it is set and not a whole number in bounds.
   */
  optionalInteger(name: string, min: number, max: number): number | undefined;
  /**
   * A byte-size flag (see {@linkcode parseSize}).
   *
   * @throws {UsageError} when it is not one.
   */
  size(name: string): number;
  /** An environment variable that no flag sets (etcd credentials). */
  env(name: string): string | undefined;
}

/** How a role logs, from `--log-level` and `--log-format`. */
export interface Logging {
  /** The least severe level printed. */
  logLevel: LogLevel;
  /** Text or JSON lines. */
  logFormat: LogFormat;
}

/** A role's command line, parsed: its help, or its logging and options. */
export type ParsedRole<T> = { help: string } | (Logging & { options: T });

/**
 * The environment variable that sets a flag: `GANACHE_` and the flag in
 * capitals, dashes as underscores (`--max-bytes` is `GANACHE_MAX_BYTES`).
 */
export function envName(flag: string): string {
  return `GANACHE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/**
 * The program's help text: every role's usage and summary.
 *
 * @param roles The roles, in the order to list them.
 */
export function programHelp(roles: RoleSpec[]): string {
  const width = Math.max(...roles.map((r) => r.usage.length));
  return [
    "Ganache: a distributed in-memory cache with TLS auth.",
    "",
    "Usage: deno task start [flags]             (same as: main.ts start)",
    "       deno task -q cli <role> [args] [flags]   (-q: no task banner)",
    "",
    "Roles:",
    ...roles.map((r) => `  ${r.usage.padEnd(width)}  ${r.summary}`),
    "",
    "Run '<role> --help' for a role's flags. Every flag can also be set as",
    "GANACHE_<FLAG> (e.g. GANACHE_MAX_BYTES=1GiB); a flag on the command line wins.",
  ].join("\n");
}

/** A role's help text: its usage, summary and flags. */
export function roleHelp(spec: RoleSpec): string {
  const flags = { ...spec.flags, ...COMMON };
  const lines = Object.entries(flags).map(([name, flag]) => {
    const left = `--${name}${flag.value ? ` ${flag.value}` : ""}`;
    const def = flag.default !== undefined ? ` [default: ${flag.default}]` : "";
    return `  ${left.padEnd(26)} ${flag.help}${def}`;
  });
  return [
    `Usage: main.ts ${spec.usage}`,
    "",
    spec.summary,
    "",
    "Flags (each also from GANACHE_<FLAG>, e.g. --log-level from GANACHE_LOG_LEVEL; the command line wins):",
    ...lines,
  ]
    .join("\n");
}

/** A negative number, which `parseArgs` would take for short flags. */
const NEGATIVE = /^-\d/;
/** Marks a negative number while `parseArgs` runs. */
const HIDDEN = "\u0000";

/** Options of {@linkcode parseRole}. */
export interface ParseRoleOptions<T> {
  /** The role's name, for messages. */
  name: string;
  /** What the role takes. */
  spec: RoleSpec;
  /** Turns the parsed flags into the role's options. */
  toOptions: (values: FlagValues) => T;
  /** Reads an environment variable. @default one that finds none */
  env?: (name: string) => string | undefined;
  /**
   * Where the user typed the command (`deno task` runs in the repository
   * but sets `INIT_CWD` to it): relative paths the user gives are resolved
   * from here. @default paths are left as given
   */
  cwd?: string;
}

/**
 * Parses the arguments of one role: its flags and the common ones, then its
 * positionals, then (through `toOptions`) its options.
 *
 * @param args The arguments after the role's name.
 * @param options The role, and where the environment comes from.
 * @throws {UsageError} on anything it cannot make sense of.
 */
export function parseRole<T>(
  args: string[],
  options: ParseRoleOptions<T>,
): ParsedRole<T> {
  const { name: role, spec, toOptions, env = () => undefined, cwd } = options;
  const flags = { ...spec.flags, ...COMMON };
  let parsed;
  try {
    parsed = parseArgs({
      // A negative number is a value (`set n -42 --type int64`), not flags.
      args: args.map((arg) => NEGATIVE.test(arg) ? `${HIDDEN}${arg}` : arg),
      options: Object.fromEntries(
        Object.entries(flags).map((
          [name, flag],
        ) => [name, { type: flag.type }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${role}: ${(error as Error).message}`);
  }
  const unhide = (arg: string) =>
    arg.startsWith(HIDDEN) ? arg.slice(HIDDEN.length) : arg;
  parsed.positionals = parsed.positionals.map(unhide);
  const values = Object.fromEntries(
    Object.entries(parsed.values).map((
      [name, value],
    ) => [name, typeof value === "string" ? unhide(value) : value]),
  ) as Record<string, string | boolean | undefined>;
  if (values.help) return { help: roleHelp(spec) };
  // A flag on the command line wins over GANACHE_<FLAG>, which wins over the default.
  const given = (name: string) => {
    const value = values[name];
    return typeof value === "string" ? value : env(envName(name));
  };
  const isPath = (name: string) =>
    flags[name]?.value === "DIR" || flags[name]?.value === "FILE";
  const text = (name: string) => {
    const value = given(name);
    const path = value ?? flags[name]?.default;
    if (cwd === undefined || !isPath(name) || !path || path === "-") {
      return path;
    }
    // A default path is the repository's (where `deno task` runs); a path
    // the user typed starts where they typed it. Both absolute, so messages
    // name the real place.
    return value === undefined ? resolve(path) : resolve(cwd, path);
  };
  const oneOf = <L extends string>(
    name: string,
    allowed: readonly L[],
    is: (value: string) => value is L,
  ): L => {
    const value = text(name)!;
    if (is(value)) return value;
    throw new UsageError(
      `--${name} must be one of ${allowed.join(", ")}: received "${value}"`,
    );
  };
  const logLevel = oneOf("log-level", LOG_LEVELS, isLogLevel);
  const logFormat = oneOf("log-format", LOG_FORMATS, isLogFormat);
  const required = spec.positionals.filter((p) => !p.startsWith("[")).length;
  const most = spec.positionals.some((p) => p.endsWith("..."))
    ? Infinity
    : spec.positionals.length;
  const count = parsed.positionals.length;
  if (count < required || count > most) {
    throw new UsageError(
      `${role} takes ${
        spec.positionals.join(" ") || "no arguments"
      }: received ${parsed.positionals.length} argument(s)`,
    );
  }
  const integer = (name: string, min: number, max: number) =>
    parseInteger(name, text(name)!, min, max);
  const parsedOptions = toOptions({
    role,
    positionals: parsed.positionals,
    text,
    boolean: (name) =>
      values[name] === true ||
      (values[name] === undefined &&
        /^(1|true|yes|on)$/i.test(env(envName(name)) ?? "")),
    integer,
    optionalInteger: (name, min, max) =>
      text(name) === undefined ? undefined : integer(name, min, max),
    size: (name) => parseSize(name, text(name)!),
    env,
  });
  return { logLevel, logFormat, options: parsedOptions };
}
