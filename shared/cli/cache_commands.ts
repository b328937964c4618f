/**
 * The client commands of the read-modify-write methods, like their
 * `redis-cli` namesakes: `incr`, `setnx`, `touch`, `flush`, and `del` with
 * several keys. `roles/client_commands.ts` parses them and runs them here.
 *
 * @module
 */
import type { Flags, RoleSpec } from "../flags.ts";
import { UsageError } from "../flags.ts";
import {
  type CfeCaller,
  conditionalSet,
  deleteMany,
  flushNamespace,
  increment,
  touch,
} from "../cache_ops_client.ts";
import type { AnyValue } from "../wire/messages.ts";

/** The names of these commands. */
export type CacheCommand = "incr" | "setnx" | "touch" | "flush";

/** What a miss prints. */
const NOT_FOUND = "(not found)";

/**
 * Their specs, given the flags every client command takes and those of
 * writes (`--type`, `--ttl`).
 */
export function cacheSpecs(
  clientFlags: Flags,
  writeFlags: Flags,
): Record<CacheCommand, RoleSpec> {
  const ttlOnly: Flags = { ...clientFlags, ttl: writeFlags.ttl! };
  return {
    incr: {
      usage: "incr NS KEY [DELTA] [flags]",
      summary:
        "Add DELTA (default 1, may be negative) to a key's int64 atomically (a missing key is 0) and print the sum; --ttl sets the key's TTL.",
      positionals: ["NS", "KEY", "[DELTA]"],
      flags: ttlOnly,
    },
    setnx: {
      usage: "setnx NS KEY VALUE [flags]",
      summary:
        "Store a value only if the key is absent: prints stored, or (exists) on stderr and exit code 1.",
      positionals: ["NS", "KEY", "VALUE"],
      flags: writeFlags,
    },
    touch: {
      usage: "touch NS KEY [flags]",
      summary:
        "Set a key's TTL without rewriting it (--ttl; none: no expiry): prints touched, or (not found) and exit code 1.",
      positionals: ["NS", "KEY"],
      flags: ttlOnly,
    },
    flush: {
      usage: "flush NS [flags]",
      summary: "Remove every key of a namespace at once: prints flushed.",
      positionals: ["NS"],
      flags: clientFlags,
    },
  };
}

/** What a command prints with (tests swap them). */
export interface CacheCommandIo {
  /** Writes to stdout. */
  out(text: string): Promise<void>;
  /** Writes to stderr. */
  err(text: string): Promise<void>;
}

/** A command with its parsed arguments. */
export interface CacheCommandRun {
  /** The command. */
  command: CacheCommand;
  /** NS, KEY, and DELTA for `incr`. */
  args: string[];
  /** `--ttl` in ms, 0 when not given. */
  ttlMs: number;
  /** `setnx`: the value, encoded by `--type`. */
  value?: AnyValue;
}

/**
 * Runs one of these commands.
 *
 * @returns The exit code: 0, or 1 when the key was (`setnx`) or was not
 * (`touch`) there.
 */
export async function runCacheCommand(
  client: CfeCaller,
  run: CacheCommandRun,
  io: CacheCommandIo,
): Promise<number> {
  const [namespace = "", key = "", deltaText = "1"] = run.args;
  switch (run.command) {
    case "incr": {
      if (!/^-?\d+$/.test(deltaText)) {
        throw new UsageError(
          `incr takes a whole number as DELTA: received "${deltaText}"`,
        );
      }
      const sum = await increment(client, namespace, key, BigInt(deltaText), {
        ttlMs: run.ttlMs,
      });
      await io.out(`${sum}\n`);
      return 0;
    }
    case "setnx": {
      const stored = await conditionalSet(client, {
        namespace,
        key,
        value: run.value!,
        ttlMs: run.ttlMs,
      });
      if (!stored) {
        await io.err("(exists)\n");
        return 1;
      }
      await io.out("stored\n");
      return 0;
    }
    case "touch":
      if (!await touch(client, namespace, key, run.ttlMs)) {
        await io.err(`${NOT_FOUND}\n`);
        return 1;
      }
      await io.out("touched\n");
      return 0;
    case "flush":
      await flushNamespace(client, namespace);
      await io.out("flushed\n");
      return 0;
  }
}

/**
 * `del NS KEY KEY...`: deletes in one call and prints a line per key,
 * `deleted` or `(not found)`; exit code 1 if any was missing.
 */
export async function deleteKeys(
  client: CfeCaller,
  namespace: string,
  keys: string[],
  io: CacheCommandIo,
): Promise<number> {
  const existed = await deleteMany(client, namespace, keys);
  await io.out(
    existed.map((found) => found ? "deleted\n" : `${NOT_FOUND}\n`).join(""),
  );
  return existed.every((found) => found) ? 0 : 1;
}
