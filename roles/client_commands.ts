/**
 * The client roles for people and scripts, in the spirit of `redis-cli`:
 * `set`, `get`, `mset`, `mget`, `del`, `ttl`, `stats` and `health`; and
 * `incr`, `setnx`, `touch` and `flush` (`shared/cli/cache_commands.ts`).
 *
 * Exit codes: 0 on success, 1 on a miss or not found (`get`, `mget` with a
 * missing key, `del`, `ttl`; `health` not SERVING), 2 on a usage mistake or
 * an error. A miss prints `(not found)` on stderr (`mget` prints it on
 * stdout, in the missing key's line).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { readFile } from "node:fs/promises";
import {
  type AnyValue,
  type Codec,
  codecs,
  GanacheClient,
  type NamespaceClient,
} from "../shared/client.ts";
import { describeError } from "../shared/cli/describe_error.ts";
import { parseDuration } from "../shared/cli/duration.ts";
import {
  type CacheCommand,
  cacheSpecs,
  deleteKeys,
  runCacheCommand,
} from "../shared/cli/cache_commands.ts";
import {
  type Flags,
  type FlagValues,
  type RoleSpec,
  UsageError,
} from "../shared/flags.ts";
import {
  BYTES_TYPE_URL,
  INT64_TYPE_URL,
  STRING_TYPE_URL,
} from "../shared/wire/values.ts";

/** Exit code of a client command that found nothing. */
export const EXIT_MISS = 1;
/** Exit code of a client command that failed. */
export const EXIT_ERROR = 2;

/** What a miss prints. */
export const NOT_FOUND = "(not found)";

/** The flags every client command takes. */
const CLIENT_FLAGS: Flags = {
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

/** The value types of `--type`. */
export const VALUE_TYPES = ["string", "int64", "json", "bytes"] as const;
/** A value type of `--type`. */
export type ValueType = typeof VALUE_TYPES[number];

const TYPE_HELP =
  "string, int64, json or bytes (bytes are base64 on the command line and on output, unless --raw)";

const WRITE_FLAGS: Flags = {
  ...CLIENT_FLAGS,
  type: {
    type: "string",
    default: "string",
    value: "TYPE",
    help: TYPE_HELP,
  },
  ttl: {
    type: "string",
    value: "DURATION",
    help:
      "time to live: 60s, 5m, 2h, 1d, or a plain number of milliseconds (default: no expiry)",
  },
};

const READ_FLAGS: Flags = {
  ...CLIENT_FLAGS,
  type: {
    type: "string",
    value: "TYPE",
    help: `${TYPE_HELP}; default: the stored value's own type`,
  },
};

/** A client command's name. */
export type ClientCommand =
  | "set"
  | "get"
  | "mset"
  | "mget"
  | "del"
  | "ttl"
  | "stats"
  | "health"
  | CacheCommand;

/** What each client command takes on the command line. */
export const SPECS: Record<ClientCommand, RoleSpec> = {
  set: {
    usage: "set NS KEY [VALUE|-] [flags]",
    summary:
      "Store a value: the argument, stdin with -, or --file FILE; --type, --ttl.",
    positionals: ["NS", "KEY", "[VALUE]"],
    flags: {
      ...WRITE_FLAGS,
      file: {
        type: "string",
        value: "FILE",
        help: "read the value from this file (instead of VALUE)",
      },
      raw: {
        type: "boolean",
        help: "--type bytes: the value is the bytes themselves, not base64",
      },
    },
  },
  get: {
    usage: "get NS KEY [flags]",
    summary: "Print a value; on a miss (not found) on stderr and exit code 1.",
    positionals: ["NS", "KEY"],
    flags: {
      ...READ_FLAGS,
      raw: {
        type: "boolean",
        help:
          "print the value's bytes exactly, with no newline (bytes: not base64)",
      },
    },
  },
  mset: {
    usage: "mset NS KEY VALUE [KEY VALUE ...] [flags]",
    summary:
      "Store several values in one call; --type and --ttl apply to each.",
    positionals: ["NS", "KEY_VALUE..."],
    flags: WRITE_FLAGS,
  },
  mget: {
    usage: "mget NS KEY... [flags]",
    summary:
      "Print several values in one call, a line each ((not found) for a miss; exit code 1 if any).",
    positionals: ["NS", "KEY..."],
    flags: READ_FLAGS,
  },
  del: {
    usage: "del NS KEY... [flags]",
    summary:
      "Delete keys in one call: prints deleted, or (not found), a line per key; exit code 1 if any was missing.",
    positionals: ["NS", "KEY..."],
    flags: CLIENT_FLAGS,
  },
  ttl: {
    usage: "ttl NS KEY [flags]",
    summary:
      "Print a key's remaining time to live in ms (0: no expiry); (not found) and exit code 1 on a miss.",
    positionals: ["NS", "KEY"],
    flags: CLIENT_FLAGS,
  },
  stats: {
    usage: "stats [flags]",
    summary: "Print per-shard counters as JSON.",
    positionals: [],
    flags: CLIENT_FLAGS,
  },
  health: {
    usage: "health [flags]",
    summary:
      "Print the server's gRPC health status; exit code 0 when SERVING, 1 otherwise.",
    positionals: [],
    flags: CLIENT_FLAGS,
  },
  ...cacheSpecs(CLIENT_FLAGS, WRITE_FLAGS),
};

/** Options shared by the client commands. */
export interface ClientCommandOptions {
  /** The command. */
  command: ClientCommand;
  /** Its positional arguments (namespace, keys, values). */
  args: string[];
  /** The frontend's address. */
  addr: string;
  /** The certificates directory. */
  certs: string;
  /** The server certificate's name, if not the host. */
  serverName?: string;
  /** The call's deadline. */
  timeoutMs: number;
  /** The TTL of `set` and `mset`, in ms (0: no expiry). */
  ttlMs: number;
  /** `--type`; for reads, `undefined` means the stored value's own type. */
  type?: ValueType;
  /** `--raw`. */
  raw: boolean;
  /** `--file` of `set`. */
  file?: string;
}

/**
 * The options of a client command from its parsed {@linkcode SPECS} flags
 * (`values.role` is the command).
 *
 * @throws {UsageError} when a value is out of range or arguments clash.
 */
export function parseOptions(values: FlagValues): ClientCommandOptions {
  const command = values.role as ClientCommand;
  const flags = SPECS[command].flags;
  const typeText = flags.type ? values.text("type") : undefined;
  if (
    typeText !== undefined &&
    !(VALUE_TYPES as readonly string[]).includes(typeText)
  ) {
    throw new UsageError(
      `--type must be one of ${VALUE_TYPES.join(", ")}: received "${typeText}"`,
    );
  }
  const ttl = flags.ttl ? values.text("ttl") : undefined;
  const options: ClientCommandOptions = {
    command,
    args: values.positionals,
    addr: values.text("addr")!,
    certs: values.text("certs")!,
    serverName: values.text("server-name"),
    timeoutMs: values.integer("timeout-ms", 1, 3_600_000),
    ttlMs: ttl === undefined ? 0 : parseDuration("ttl", ttl),
    type: typeText as ValueType | undefined,
    raw: flags.raw ? values.boolean("raw") : false,
    file: flags.file ? values.text("file") : undefined,
  };
  if (command === "set") {
    const hasValue = options.args.length === 3;
    if (hasValue === (options.file !== undefined)) {
      throw new UsageError(
        "set takes the value as VALUE, as - (stdin) or as --file FILE: give exactly one",
      );
    }
  }
  if (command === "mset" && options.args.length % 2 === 0) {
    throw new UsageError("mset takes NS and then KEY VALUE pairs");
  }
  if (options.raw && options.type !== undefined && command === "set") {
    if (options.type !== "bytes") {
      throw new UsageError("--raw on set goes with --type bytes");
    }
  }
  return options;
}

/** How a command reads its input and writes its output (tests swap them). */
export interface CommandIo {
  /** The whole of stdin. */
  stdin(): Promise<Uint8Array>;
  /** Writes to stdout. */
  out(bytes: Uint8Array | string): Promise<void>;
  /** Writes to stderr. */
  err(text: string): Promise<void>;
}

const encoder = new TextEncoder();

async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array | string,
): Promise<void> {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) bytes = bytes.subarray(await writer.write(bytes));
}

/** The process's own stdin, stdout and stderr. */
export const PROCESS_IO: CommandIo = {
  stdin: () => new Response(Deno.stdin.readable).bytes(),
  out: (data) => writeAll(Deno.stdout, data),
  err: (text) => writeAll(Deno.stderr, text),
};

/**
 * Runs one client command, printing its result on stdout.
 *
 * @returns The exit code.
 */
export async function run(
  options: ClientCommandOptions,
  io: CommandIo = PROCESS_IO,
): Promise<number> {
  let client: GanacheClient | undefined;
  try {
    // Read the value before connecting: stdin may be slow, a file missing.
    const input = options.command === "set"
      ? await readInput(options, io)
      : undefined;
    client = await GanacheClient.connect({
      address: options.addr,
      certs: options.certs,
      serverName: options.serverName,
      timeoutMs: options.timeoutMs,
    });
    return await runWith(client, options, io, input);
  } catch (error) {
    await io.err(`error: ${describe(error, options)}\n`);
    return EXIT_ERROR;
  } finally {
    client?.close();
  }
}

async function runWith(
  client: GanacheClient,
  options: ClientCommandOptions,
  io: CommandIo,
  input: Uint8Array | undefined,
): Promise<number> {
  const [namespace = "", ...rest] = options.args;
  const key = rest[0] ?? "";
  const ns = client.namespace(namespace);
  const ttl = { ttlMs: options.ttlMs };
  switch (options.command) {
    case "set":
      await ns.set(key, encodeInput(input!, options), ttl);
      return 0;
    case "mset": {
      const items = [];
      for (let i = 0; i < rest.length; i += 2) {
        const value = encoder.encode(rest[i + 1]!);
        items.push({
          key: rest[i]!,
          value: encodeInput(value, options),
          ...ttl,
        });
      }
      await ns.multiSet(items);
      return 0;
    }
    case "get": {
      const value = await ns.get(key);
      if (value === undefined) return miss(io);
      const printed = printValue(key, value, options);
      await io.out(options.raw ? printed : `${printed}\n`);
      return 0;
    }
    case "mget":
      return await mget(ns, rest, options, io);
    case "del":
      if (rest.length > 1) return await deleteKeys(client, namespace, rest, io);
      if (!await ns.delete(key)) return miss(io);
      await io.out("deleted\n");
      return 0;
    case "ttl": {
      const left = await ns.ttl(key);
      if (left === undefined) return miss(io);
      await io.out(`${left}\n`);
      return 0;
    }
    case "stats":
      await io.out(`${JSON.stringify(await client.stats(), null, 2)}\n`);
      return 0;
    case "health": {
      const status = await client.health();
      await io.out(`${status}\n`);
      return status === "SERVING" ? 0 : EXIT_MISS;
    }
    case "setnx":
      return await runCacheCommand(client, {
        command: "setnx",
        args: options.args,
        ttlMs: options.ttlMs,
        value: encodeInput(encoder.encode(rest[1]!), options),
      }, io);
    case "incr":
    case "touch":
    case "flush":
      return await runCacheCommand(client, {
        command: options.command,
        args: options.args,
        ttlMs: options.ttlMs,
      }, io);
  }
  throw new Error(`unknown command ${options.command satisfies never}`);
}

async function miss(io: CommandIo): Promise<number> {
  await io.err(`${NOT_FOUND}\n`);
  return EXIT_MISS;
}

async function mget(
  ns: NamespaceClient,
  keys: string[],
  options: ClientCommandOptions,
  io: CommandIo,
): Promise<number> {
  const values = await ns.multiGet(keys);
  const lines = values.map((value, i) =>
    value === undefined
      ? NOT_FOUND
      : textOf(printValue(keys[i]!, value, { ...options, raw: false }))
  );
  await io.out(lines.map((line) => `${line}\n`).join(""));
  return values.includes(undefined) ? EXIT_MISS : 0;
}

async function readInput(
  options: ClientCommandOptions,
  io: CommandIo,
): Promise<Uint8Array> {
  if (options.file !== undefined) {
    try {
      return await readFile(options.file);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new Error(
        `cannot read --file ${options.file}: ${
          code === "ENOENT" ? "no such file" : (error as Error).message
        }`,
      );
    }
  }
  const value = options.args[2]!;
  return value === "-" ? await io.stdin() : encoder.encode(value);
}

/** The value to store, from its bytes as given, by `--type`. */
function encodeInput(
  bytes: Uint8Array,
  options: ClientCommandOptions,
): AnyValue {
  const type = options.type ?? "string";
  if (type === "bytes") {
    if (options.raw) return codecs.bytes.encode(bytes);
    const text = new TextDecoder().decode(bytes).trim();
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(text)) {
      throw new UsageError(
        "--type bytes takes base64 (or the bytes themselves with --raw)",
      );
    }
    return codecs.bytes.encode(new Uint8Array(Buffer.from(text, "base64")));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(
      `the value is not valid UTF-8 text: store it with --type bytes --raw`,
    );
  }
  if (type === "string") return codecs.string.encode(text);
  if (type === "int64") {
    const trimmed = text.trim();
    if (!/^-?\d+$/.test(trimmed)) {
      throw new UsageError(
        `--type int64 takes a whole number: received "${trimmed.slice(0, 40)}"`,
      );
    }
    const n = BigInt(trimmed);
    if (n < -(2n ** 63n) || n >= 2n ** 63n) {
      throw new UsageError(
        `${trimmed} does not fit in a signed 64-bit integer`,
      );
    }
    return codecs.int64.encode(n);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--type json takes JSON text: ${(error as Error).message}`,
    );
  }
  return codecs.json.encode(parsed);
}

const TYPE_OF_URL: Record<string, ValueType> = {
  [STRING_TYPE_URL]: "string",
  [INT64_TYPE_URL]: "int64",
  [BYTES_TYPE_URL]: "bytes",
};

/**
 * How a value prints: text for strings, JSON and integers; base64 for
 * bytes; the bytes themselves with `--raw`.
 */
function printValue(
  key: string,
  value: AnyValue,
  options: ClientCommandOptions,
): string | Uint8Array {
  const stored = TYPE_OF_URL[value.typeUrl];
  const type = options.type ?? stored;
  if (type === undefined) {
    if (options.raw) return value.value;
    throw new Error(
      `${key} holds a ${
        value.typeUrl || "value with no type URL"
      } (${value.value.length} bytes), which the CLI cannot print: use get --raw for its bytes`,
    );
  }
  if (type === "json" ? stored !== "string" : stored !== type) {
    throw new Error(
      `${key} holds a ${value.typeUrl}, not ${
        type === "json" ? "JSON text" : `a ${type}`
      }: read it with --type ${stored ?? "bytes --raw"} (or leave --type out)`,
    );
  }
  const decoded = decodeAs(value, type);
  if (decoded instanceof Uint8Array) {
    return options.raw ? decoded : Buffer.from(decoded).toString("base64");
  }
  return options.raw ? encoder.encode(decoded) : decoded;
}

function decodeAs(value: AnyValue, type: ValueType): string | Uint8Array {
  const codec: Codec<unknown> = codecs[type];
  const decoded = codec.decode(value);
  if (type === "json") return JSON.stringify(decoded);
  return decoded instanceof Uint8Array ? decoded : String(decoded);
}

function textOf(printed: string | Uint8Array): string {
  return typeof printed === "string"
    ? printed
    : new TextDecoder().decode(printed);
}

/** One line that says what went wrong. */
function describe(error: unknown, options: ClientCommandOptions): string {
  return describeError(error, {
    what: "the frontend",
    address: options.addr,
    hint: "is `deno task start` (or `deno task cfe`) running?",
    timeoutMs: options.timeoutMs,
  });
}
