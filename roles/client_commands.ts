/**
 * The client roles for people and scripts: `set`, `get`, `del`, `ttl`,
 * `stats` and `health`. Exit codes: 0 on success, 1 on a miss (or not
 * SERVING), 2 on an error.
 *
 * @module
 */
import type { ServiceError } from "@grpc/grpc-js";
import type { ClientCommandOptions } from "../shared/args.ts";
import { GanacheClient } from "../shared/client.ts";

/** Exit code of a client command that found nothing. */
export const EXIT_MISS = 1;
/** Exit code of a client command that failed. */
export const EXIT_ERROR = 2;

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
