/**
 * Command-line parsing for every role, in one module (`node:util`
 * `parseArgs`), with the help text of each role.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { EtcdOptions } from "./cluster/etcd.ts";
import type { FrontendOptions } from "./frontend/frontend.ts";
import {
  isLogFormat,
  isLogLevel,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./ops/log.ts";

/** Environment variables holding etcd credentials (never logged). */
export const ETCD_USER_ENV = "GANACHE_ETCD_USER";
/** See {@linkcode ETCD_USER_ENV}. */
export const ETCD_PASSWORD_ENV = "GANACHE_ETCD_PASSWORD";

/** A usage mistake: printed with a hint, exit code 2. */
export class UsageError extends Error {
  /** @param message What was wrong with the command line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One flag of a role. */
interface Flag {
  type: "string" | "boolean";
  /** The value shown as `[default: …]`. */
  default?: string;
  /** The value placeholder shown in help, e.g. `PORT`. */
  value?: string;
  help: string;
}

/** The flags every role takes. */
const COMMON: Record<string, Flag> = {
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

const CLIENT: Record<string, Flag> = {
  addr: {
    type: "string",
    default: "127.0.0.1:40001",
    value: "HOST:PORT",
    help: "the frontend to talk to",
  },
  certs: {
    type: "string",
    default: "certs",
    value: "DIR",
    help: "directory with ca.crt, client.crt and client.key",
  },
  "server-name": {
    type: "string",
    value: "NAME",
    help:
      "name the server certificate must carry (default: the host, or localhost for an IP)",
  },
  "timeout-ms": {
    type: "string",
    default: "5000",
    value: "MS",
    help: "deadline of the call",
  },
};

interface RoleSpec {
  usage: string;
  summary: string;
  positionals: string[];
  flags: Record<string, Flag>;
}

const LISTEN = (port: string): Record<string, Flag> => ({
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
});

/** The flags of a frontend (`start` and `cfe`). */
const FRONTEND: Record<string, Flag> = {
  ...LISTEN("40001"),
  "max-value-bytes": {
    type: "string",
    default: "4MiB",
    value: "SIZE",
    help: "largest value accepted (type URL included)",
  },
  certs: {
    type: "string",
    default: "certs",
    value: "DIR",
    help:
      "ca.crt, cfe.crt, cfe.key; generated on first start if there is no CA",
  },
  "client-ca": {
    type: "string",
    value: "FILE",
    help: "CA that client certificates must chain to (default: <certs>/ca.crt)",
  },
  "no-client-auth": {
    type: "boolean",
    help: "accept TLS clients without a certificate, as the original did",
  },
  acl: {
    type: "string",
    value: "FILE",
    help:
      'JSON map from client certificate CN to namespaces, e.g. {"client":["demo"]}',
  },
};

/** The flags that say where etcd is. */
const ETCD: Record<string, Flag> = {
  etcd: {
    type: "string",
    value: "URLS",
    help:
      "etcd endpoints, comma-separated (required); credentials come from GANACHE_ETCD_USER and GANACHE_ETCD_PASSWORD",
  },
  "etcd-ca": {
    type: "string",
    value: "FILE",
    help: "CA of etcd's server certificate (https endpoints)",
  },
  "etcd-cert": {
    type: "string",
    value: "FILE",
    help: "client certificate for etcd",
  },
  "etcd-key": { type: "string", value: "FILE", help: "its private key" },
};

const SHARD_COUNT: Flag = {
  type: "string",
  value: "N",
  help:
    "the cluster's shard count: creates ganache/config in etcd if absent, and refuses to start if it differs",
};

const MAX_BYTES = (help: string): Flag => ({
  type: "string",
  default: "256MiB",
  value: "SIZE",
  help: `${help} (e.g. 512MiB, 2GiB)`,
});

const ROLES: Record<string, RoleSpec> = {
  start: {
    usage: "start [flags]",
    summary:
      "Serve the cache: a TLS gRPC frontend with Web Worker shards (the default role).",
    positionals: [],
    flags: {
      ...FRONTEND,
      workers: {
        type: "string",
        default: "cores",
        value: "N",
        help: "number of worker shards (default: the number of cores)",
      },
      "max-bytes": MAX_BYTES("total cache capacity, split across shards"),
      "frontend-threads": {
        type: "string",
        default: "1",
        value: "N",
        help:
          "threads serving gRPC on the one port (reusePort, Linux); each routes to every worker shard",
      },
    },
  },
  cfe: {
    usage: "cfe --etcd URLS [flags]",
    summary:
      "A cluster frontend: routes to the remote shards registered in etcd.",
    positionals: [],
    flags: {
      ...FRONTEND,
      ...ETCD,
      shards: SHARD_COUNT,
      "shard-timeout-ms": {
        type: "string",
        default: "2000",
        value: "MS",
        help: "deadline of each call to a shard replica",
      },
    },
  },
  shard: {
    usage: "shard --etcd URLS [flags]",
    summary:
      "A remote shard process: one LRU, registered in etcd under a lease.",
    positionals: [],
    flags: {
      ...LISTEN("40011"),
      ...ETCD,
      shard: {
        type: "string",
        value: "K",
        help: "serve shard K (default: the shard with the fewest replicas)",
      },
      shards: SHARD_COUNT,
      advertise: {
        type: "string",
        value: "HOST:PORT",
        help: "address to register in etcd (default: --host and the port)",
      },
      "max-bytes": MAX_BYTES("this replica's capacity"),
      certs: {
        type: "string",
        default: "certs",
        value: "DIR",
        help:
          "ca.crt, shard.crt, shard.key; generated on first start if there is no CA",
      },
      "lease-ttl": {
        type: "string",
        default: "5",
        value: "SECONDS",
        help: "registration lease TTL: how long a crashed shard stays listed",
      },
    },
  },
  shards: {
    usage: "shards --etcd URLS [flags]",
    summary:
      "Print the cluster's shard map: shard, replicas, address, age, items, bytes.",
    positionals: [],
    flags: {
      ...ETCD,
      certs: {
        type: "string",
        default: "certs",
        value: "DIR",
        help: "ca.crt, cfe.crt, cfe.key (to ask each replica for its counters)",
      },
    },
  },
  certs: {
    usage: "certs [flags]",
    summary:
      "Create development certificates (CA, cfe, shard, client), adding any that are missing.",
    positionals: [],
    flags: {
      certs: {
        type: "string",
        default: "certs",
        value: "DIR",
        help: "where to write them",
      },
      force: {
        type: "boolean",
        help: "make a new CA and reissue every certificate",
      },
      hosts: {
        type: "string",
        value: "NAMES",
        help:
          "more DNS names or addresses for the cfe and shard certificates, comma-separated (e.g. container service names)",
      },
    },
  },
  set: {
    usage: "set NS KEY VALUE [flags]",
    summary: "Store a string value.",
    positionals: ["NS", "KEY", "VALUE"],
    flags: {
      ...CLIENT,
      ttl: {
        type: "string",
        value: "MS",
        help: "time to live in milliseconds (default: no expiry)",
      },
    },
  },
  get: {
    usage: "get NS KEY [flags]",
    summary: "Print a string value; exit code 1 on a miss.",
    positionals: ["NS", "KEY"],
    flags: CLIENT,
  },
  del: {
    usage: "del NS KEY [flags]",
    summary: "Delete a key; prints whether it existed.",
    positionals: ["NS", "KEY"],
    flags: CLIENT,
  },
  ttl: {
    usage: "ttl NS KEY [flags]",
    summary:
      "Print a key's remaining time to live in ms (0: no expiry); exit code 1 on a miss.",
    positionals: ["NS", "KEY"],
    flags: CLIENT,
  },
  stats: {
    usage: "stats [flags]",
    summary: "Print per-shard counters as JSON.",
    positionals: [],
    flags: CLIENT,
  },
  health: {
    usage: "health [flags]",
    summary:
      "Print the server's gRPC health status; exit code 0 when SERVING, 1 otherwise.",
    positionals: [],
    flags: CLIENT,
  },
};

/** Options shared by the client commands. */
export interface ClientCommandOptions {
  /** The command. */
  command: "set" | "get" | "del" | "ttl" | "stats" | "health";
  /** Its positional arguments (namespace, key, value). */
  args: string[];
  /** The frontend's address. */
  addr: string;
  /** The certificates directory. */
  certs: string;
  /** The server certificate's name, if not the host. */
  serverName?: string;
  /** The call's deadline. */
  timeoutMs: number;
  /** The TTL of `set`, in ms. */
  ttlMs: number;
}

/** The `start` role's options. */
export interface StartArgs extends FrontendOptions {
  /** How many worker shards. @default the number of cores */
  workers: number;
  /** Total cache capacity in bytes, split evenly across shards. @default 256 MiB */
  maxBytes: number;
  /** Threads serving the frontend on one port (`reusePort`, Linux). @default 1 */
  frontendThreads?: number;
}

/** The `cfe` role's options. */
export interface CfeArgs extends FrontendOptions {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** The shard count; creates the cluster configuration if there is none. */
  shards?: number;
  /** Deadline of each call to a shard replica, in ms. @default 2000 */
  shardTimeoutMs: number;
}

/** The `shard` role's options. */
export interface ShardArgs {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** A fixed shard number; by default the least-replicated one. */
  shard?: number;
  /** The cluster's shard count, if this process may create the configuration. */
  shards?: number;
  /** The interface to listen on. @default "127.0.0.1" */
  host: string;
  /** The port; 0 picks a free one. @default 40011 */
  port: number;
  /** The address to register; by default `host:port`. */
  advertise?: string;
  /** The store's byte budget. @default 256 MiB */
  maxBytes: number;
  /** Where `ca.crt`, `shard.crt` and `shard.key` are. @default "certs" */
  certs: string;
  /** Registration lease TTL in seconds. @default 5 */
  leaseTtlSeconds: number;
  /** How long shutdown waits for calls in flight, in ms. @default 5000 */
  shutdownGraceMs: number;
  /** Serve Prometheus metrics and health over HTTP on this port. */
  metricsPort?: number;
}

/** The `shards` role's options. */
export interface ShardsArgs {
  /** Where etcd is. */
  etcd: EtcdOptions;
  /** Where `ca.crt`, `cfe.crt` and `cfe.key` are. */
  certs: string;
}

/** What the command line asks for. */
export type Command =
  | { role: "help"; text: string }
  | (
    & Logging
    & (
      | { role: "start"; options: StartArgs }
      | { role: "cfe"; options: CfeArgs }
      | { role: "shard"; options: ShardArgs }
      | { role: "shards"; options: ShardsArgs }
      | { role: "certs"; dir: string; force: boolean; hosts: string[] }
      | { role: "client"; options: ClientCommandOptions }
    )
  );

/** How a role logs. */
export interface Logging {
  /** The least severe level printed. */
  logLevel: LogLevel;
  /** Text or JSON lines. */
  logFormat: LogFormat;
}

/**
 * The environment variable that sets a flag: `GANACHE_` and the flag in
 * capitals, dashes as underscores (`--max-bytes` is `GANACHE_MAX_BYTES`).
 */
export function envName(flag: string): string {
  return `GANACHE_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** The program's help text. */
export function programHelp(): string {
  const width = Math.max(...Object.values(ROLES).map((r) => r.usage.length));
  return [
    "Ganache: a distributed in-memory cache with TLS auth.",
    "",
    "Usage: deno task start [flags]          (same as: main.ts start)",
    "       deno task cli -- <role> [args] [flags]",
    "",
    "Roles:",
    ...Object.values(ROLES).map((r) =>
      `  ${r.usage.padEnd(width)}  ${r.summary}`
    ),
    "",
    "Run '<role> --help' for a role's flags. Every flag can also be set as",
    "GANACHE_<FLAG> (e.g. GANACHE_MAX_BYTES=1GiB); a flag on the command line wins.",
  ].join("\n");
}

/** A role's help text. */
export function roleHelp(role: string): string {
  const spec = ROLES[role]!;
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

/**
 * Parses the command line of `main.ts`.
 *
 * @param argv The arguments after `main.ts`.
 * @param cores The default number of workers.
 * @param env Reads an environment variable (etcd credentials).
 * @throws {UsageError} on anything it cannot make sense of.
 */
export function parseCommandLine(
  argv: string[],
  cores: number,
  env: (name: string) => string | undefined = () => undefined,
): Command {
  // `deno task cli -- set …` passes the `--` through.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  const first = args[0];
  if (first === undefined || first.startsWith("-")) {
    if (first === "--help" || first === "-h") {
      return { role: "help", text: programHelp() };
    }
    return parseRole("start", args, cores, env);
  }
  if (first === "help") return { role: "help", text: programHelp() };
  if (!Object.hasOwn(ROLES, first)) {
    throw new UsageError(`unknown role "${first}"`);
  }
  return parseRole(first, args.slice(1), cores, env);
}

function parseRole(
  role: string,
  args: string[],
  cores: number,
  env: (name: string) => string | undefined,
): Command {
  const spec = ROLES[role]!;
  const flags = { ...spec.flags, ...COMMON };
  let parsed;
  try {
    parsed = parseArgs({
      args,
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
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { role: "help", text: roleHelp(role) };
  // A flag on the command line wins over GANACHE_<FLAG>, which wins over the default.
  const text = (name: string) => {
    const value = values[name];
    if (typeof value === "string") return value;
    return env(envName(name)) ?? flags[name]?.default;
  };
  const flag = (name: string) =>
    values[name] === true ||
    (values[name] === undefined &&
      /^(1|true|yes|on)$/i.test(env(envName(name)) ?? ""));
  const oneOf = <T extends string>(
    name: string,
    allowed: readonly T[],
    is: (value: string) => value is T,
  ): T => {
    const value = text(name)!;
    if (is(value)) return value;
    throw new UsageError(
      `--${name} must be one of ${allowed.join(", ")}: received "${value}"`,
    );
  };
  const logLevel = oneOf("log-level", LOG_LEVELS, isLogLevel);
  const logFormat = oneOf("log-format", LOG_FORMATS, isLogFormat);
  if (parsed.positionals.length !== spec.positionals.length) {
    throw new UsageError(
      `${role} takes ${
        spec.positionals.join(" ") || "no arguments"
      }: received ${parsed.positionals.length} argument(s)`,
    );
  }
  const integer = (name: string, min: number, max: number) =>
    parseInteger(name, text(name)!, min, max);
  const optionalInteger = (name: string, min: number, max: number) =>
    text(name) === undefined ? undefined : integer(name, min, max);
  const frontend = (): FrontendOptions => ({
    host: text("host")!,
    port: integer("port", 0, 65535),
    maxValueBytes: parseSize("max-value-bytes", text("max-value-bytes")!),
    certs: text("certs")!,
    clientCa: text("client-ca"),
    clientAuth: !flag("no-client-auth"),
    metricsPort: optionalInteger("metrics-port", 0, 65535),
    acl: text("acl"),
    shutdownGraceMs: integer("shutdown-grace-ms", 0, 3_600_000),
  });
  const etcd = (): EtcdOptions => {
    const urls = text("etcd");
    if (!urls) throw new UsageError(`${role} needs --etcd URLS`);
    return {
      urls: urls.split(",").map((url) => url.trim()).filter(Boolean),
      ca: text("etcd-ca"),
      cert: text("etcd-cert"),
      key: text("etcd-key"),
      user: env(ETCD_USER_ENV),
      password: env(ETCD_PASSWORD_ENV),
    };
  };
  switch (role) {
    case "start": {
      const workers = text("workers");
      return {
        role,
        logLevel,
        logFormat,
        options: {
          ...frontend(),
          workers: workers === "cores"
            ? cores
            : parseInteger("workers", workers!, 1, 1024),
          maxBytes: parseSize("max-bytes", text("max-bytes")!),
          frontendThreads: integer("frontend-threads", 1, 64),
        },
      };
    }
    case "cfe":
      return {
        role,
        logLevel,
        logFormat,
        options: {
          ...frontend(),
          etcd: etcd(),
          shards: optionalInteger("shards", 1, 65536),
          shardTimeoutMs: integer("shard-timeout-ms", 1, 3_600_000),
        },
      };
    case "shard":
      return {
        role,
        logLevel,
        logFormat,
        options: {
          etcd: etcd(),
          shard: optionalInteger("shard", 0, 65535),
          shards: optionalInteger("shards", 1, 65536),
          host: text("host")!,
          port: integer("port", 0, 65535),
          advertise: text("advertise"),
          maxBytes: parseSize("max-bytes", text("max-bytes")!),
          certs: text("certs")!,
          leaseTtlSeconds: integer("lease-ttl", 1, 3600),
          shutdownGraceMs: integer("shutdown-grace-ms", 0, 3_600_000),
          metricsPort: optionalInteger("metrics-port", 0, 65535),
        },
      };
    case "shards":
      return {
        role,
        logLevel,
        logFormat,
        options: { etcd: etcd(), certs: text("certs")! },
      };
    case "certs":
      return {
        role,
        logLevel,
        logFormat,
        dir: text("certs")!,
        force: flag("force"),
        hosts: (text("hosts") ?? "").split(",").map((h) => h.trim())
          .filter(Boolean),
      };
  }
  const ttl = text("ttl");
  return {
    role: "client",
    logLevel,
    logFormat,
    options: {
      command: role as ClientCommandOptions["command"],
      args: parsed.positionals,
      addr: text("addr")!,
      certs: text("certs")!,
      serverName: text("server-name"),
      timeoutMs: integer("timeout-ms", 1, 3_600_000),
      ttlMs: ttl === undefined
        ? 0
        : parseInteger("ttl", ttl, 0, Number.MAX_SAFE_INTEGER),
    },
  };
}

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
