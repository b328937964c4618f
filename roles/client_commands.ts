/**
 * The client roles for people and scripts: `set`, `get`, `del`, `ttl`,
 * `stats` and `health`. Exit codes: 0 on success, 1 on a miss (or not
 * SERVING), 2 on an error.
 *
 * @module
 */
import type { ServiceError } from "@grpc/grpc-js";
import { GanacheClient } from "../shared/client.ts";
import type { Flags, FlagValues, RoleSpec } from "../shared/flags.ts";

/** Exit code of a client command that found nothing. */
export const EXIT_MISS = 1;
/** Exit code of a client command that failed. */
export const EXIT_ERROR = 2;

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

/** A client command's name. */
export type ClientCommand = "set" | "get" | "del" | "ttl" | "stats" | "health";

/** What each client command takes on the command line. */
export const SPECS: Record<ClientCommand, RoleSpec> = {
  set: {
    usage: "set NS KEY VALUE [flags]",
    summary: "Store a string value.",
    positionals: ["NS", "KEY", "VALUE"],
    flags: {
      ...CLIENT_FLAGS,
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
    flags: CLIENT_FLAGS,
  },
  del: {
    usage: "del NS KEY [flags]",
    summary: "Delete a key; prints whether it existed.",
    positionals: ["NS", "KEY"],
    flags: CLIENT_FLAGS,
  },
  ttl: {
    usage: "ttl NS KEY [flags]",
    summary:
      "Print a key's remaining time to live in ms (0: no expiry); exit code 1 on a miss.",
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
};

/** Options shared by the client commands. */
export interface ClientCommandOptions {
  /** The command. */
  command: ClientCommand;
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

/**
 * The options of a client command from its parsed {@linkcode SPECS} flags
 * (`values.role` is the command).
 *
 * @throws {UsageError} when a value is out of range.
 */
export function parseOptions(values: FlagValues): ClientCommandOptions {
  return {
    command: values.role as ClientCommand,
    args: values.positionals,
    addr: values.text("addr")!,
    certs: values.text("certs")!,
    serverName: values.text("server-name"),
    timeoutMs: values.integer("timeout-ms", 1, 3_600_000),
    ttlMs: values.optionalInteger("ttl", 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
}

/**
 * Runs one client command, printing its result on stdout.
 *
 * @returns The exit code.
 */
export async function run(options: ClientCommandOptions): Promise<number> {
  let client: GanacheClient | undefined;
  try {
    client = await GanacheClient.connect({
      address: options.addr,
      certs: options.certs,
      serverName: options.serverName,
      timeoutMs: options.timeoutMs,
    });
    const [namespace = "", key = "", value = ""] = options.args;
    const ns = client.namespace(namespace);
    switch (options.command) {
      case "set":
        await ns.setString(key, value, { ttlMs: options.ttlMs });
        return 0;
      case "get": {
        const found = await ns.getString(key);
        if (found === undefined) return EXIT_MISS;
        console.log(found);
        return 0;
      }
      case "del":
        console.log((await ns.delete(key)) ? "deleted" : "not found");
        return 0;
      case "ttl": {
        const left = await ns.ttl(key);
        if (left === undefined) return EXIT_MISS;
        console.log(left);
        return 0;
      }
      case "stats":
        console.log(JSON.stringify(await client.stats(), null, 2));
        return 0;
      case "health": {
        const status = await client.health();
        console.log(status);
        return status === "SERVING" ? 0 : EXIT_MISS;
      }
    }
    throw new Error(`unknown command ${options.command satisfies never}`);
  } catch (error) {
    console.error(`error: ${describe(error)}`);
    return EXIT_ERROR;
  } finally {
    client?.close();
  }
}

/** One line that says what went wrong. */
function describe(error: unknown): string {
  const serviceError = error as Partial<ServiceError>;
  if (typeof serviceError.code === "number" && serviceError.details) {
    // grpc-js appends an empty "Resolution note" to connection failures.
    return serviceError.details.replace(/\.?\s*Resolution note:\s*$/, "");
  }
  return error instanceof Error ? error.message : String(error);
}
