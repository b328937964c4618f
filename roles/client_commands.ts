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
import { readFile } from "node:fs/promises";
import { GanacheClient, type NamespaceClient } from "../shared/client.ts";
import { describeError } from "../shared/cli/describe_error.ts";
import { parseDuration } from "../shared/cli/duration.ts";
import {
  type CacheCommand,
  cacheSpecs,
  deleteKeys,
  runCacheCommand,
} from "../shared/cli/cache_commands.ts";
import {
  CLIENT_FLAGS,
  READ_FLAGS,
  WRITE_FLAGS,
} from "../shared/cli/client_flags.ts";
import {
  type CommandIo,
  EXIT_ERROR,
  EXIT_MISS,
  miss,
  NOT_FOUND,
  PROCESS_IO,
} from "../shared/cli/client_io.ts";
import {
  encodeInput,
  printValue,
  textOf,
  VALUE_TYPES,
  type ValueType,
} from "../shared/cli/value_format.ts";
import { type FlagValues, type RoleSpec, UsageError } from "../shared/flags.ts";

const encoder = new TextEncoder();

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

/** One line that says what went wrong. */
function describe(error: unknown, options: ClientCommandOptions): string {
  return describeError(error, {
    what: "the frontend",
    address: options.addr,
    hint: "is `deno task start` (or `deno task cfe`) running?",
    timeoutMs: options.timeoutMs,
  });
}
